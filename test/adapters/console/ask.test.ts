import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../../..')
const flows = resolve(import.meta.dirname, 'fixtures/flows')
// No .env here: the child sees only the environment given below.
const cwd = mkdtempSync(join(tmpdir(), 'chorus-console-'))

interface Exit {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/** `npm start -- <args>` (no args: the interactive console) with `stdin` piped in, on the fixture flows. */
function chorus(args: string[], stdin: string, env: Record<string, string> = {}): Promise<Exit> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [join(root, 'src/main.ts'), ...args], {
    cwd,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      USER: 'tester',
      CHORUS_FLOWS_DIR: flows,
      ...env,
    },
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d))
  child.stderr.on('data', (d: Buffer) => (stderr += d))
  child.stdin.end(stdin)
  return new Promise((done, fail) => {
    child.on('error', fail)
    child.on('close', (code) => done({ code, stdout, stderr, ms: performance.now() - t0 }))
  })
}

describe('console questions, piped', () => {
  it('prints the question with numbered choices and takes `<<< "2"` as choice 2', async () => {
    const { code, stdout } = await chorus(['pick', 'Which one?'], '2\n')
    expect(stdout).toContain('? Which one?\n  1) Ship it\n  2) Hold\n')
    expect(stdout).toContain('  → Hold\n')
    expect(stdout).toContain('Picked: Hold (answered by tester)')
    expect(code).toBe(0)
  })

  it('takes a choice by its label, in any case', async () => {
    const { code, stdout } = await chorus(['pick', 'Which one?'], 'ship IT\n')
    expect(stdout).toContain('Picked: Ship it (answered by tester)')
    expect(code).toBe(0)
  })

  it('says why a line is not a choice and reads the next one', async () => {
    const { stdout } = await chorus(['pick', 'Which one?'], '7\nmaybe\n\n1\n')
    expect(stdout).toContain('  ✖ "7" is not a choice: type 1 to 2, or a label.\n')
    expect(stdout).toContain('  ✖ "maybe" is not a choice: type 1 to 2, or a label.\n')
    expect(stdout).toContain('Picked: Ship it (answered by tester)')
  })

  it('with no answer when the input ends, applies the timeout outcome at once, not after the minute', async () => {
    const { code, stdout, ms } = await chorus(['pick', 'Which one?'], '')
    expect(stdout).toContain('  No answer in time: Hold applies.\n')
    expect(stdout).toContain('Picked: Hold (timeout)')
    expect(code).toBe(0)
    expect(ms).toBeLessThan(30_000)
  })

  it('counts a line per voter and closes the vote at EOF with the leader', async () => {
    const { stdout } = await chorus(['poll', 'Lunch?'], '2\nsushi\nnope\n2\n')
    expect(stdout).toContain('Closes when 3 agree, or at the deadline. One vote per line')
    expect(stdout).toContain('  → Pizza (Sushi 0 · Pizza 1 · Tacos 0)\n')
    expect(stdout).toContain('  → Pizza (Sushi 1 · Pizza 2 · Tacos 0)\n')
    expect(stdout).toContain('  Vote closed: Pizza (2 of 3 votes).\n')
    expect(stdout).toContain('Winner: Pizza (closed, 3 votes, by the clock)')
  })

  it('closes the vote by its rule, or at an empty line', async () => {
    const agreed = await chorus(['poll', 'Lunch?'], '3\n3\n1\n3\n2\n')
    expect(agreed.stdout).toContain('Winner: Tacos (agreed, 4 votes, by console 4)')
    expect(agreed.stdout).not.toContain('→ Pizza')
    const tied = await chorus(['poll', 'Lunch?'], '1\n2\n\n3\n')
    expect(tied.stdout).toContain(
      'No winner: no decision on "Lunch?": the vote closed tied between Sushi and Pizza',
    )
    expect(tied.stdout).not.toContain('→ Tacos')
  })

  it('puts questions open at once one after the other, each taking the next line', async () => {
    const { stdout } = await chorus(['pair'], 'no\nyes\n')
    expect(stdout.indexOf('? Second?')).toBeGreaterThan(stdout.indexOf('→ No'))
    expect(stdout).toContain('Answers: No then Yes')
  })

  it('fills a form field by field, asking again for a field that does not fit', async () => {
    const { stdout } = await chorus(['book', 'Luigi'], '\nAnn\n12\n4\n\n')
    expect(stdout).toContain('? Book a table at Luigi\n')
    expect(stdout).toContain('  ✖ Name: Give a name\n  Name: Ann\n')
    expect(stdout).toContain('  ✖ Seats: At most 9 seats\n  Seats: 4\n')
    expect(stdout).toContain('Booked 4 for Ann at Luigi')
  })

  it('the interactive console takes answers from the same lines, not as commands', async () => {
    const { code, stdout } = await chorus([], 'pick Which one?\n2\npick Again?\nhold\n/quit\n')
    expect(stdout.match(/Picked: Hold \(answered by tester\)/g)).toHaveLength(2)
    expect(stdout).not.toContain('Unknown command')
    expect(code).toBe(0)
  })

  it('npm start -- decide "…" <<< "2": the bundled /decide vote on the demo model', async () => {
    const { code, stdout } = await chorus(['decide', 'Which one?', '--choices', 'Tea|Coffee|Juice'], '2\n', {
      CHORUS_FLOWS_DIR: '',
    })
    expect(stdout).toContain('  1) Tea\n  2) Coffee\n  3) Juice\n')
    expect(stdout).toContain('**Decided: Coffee**')
    expect(code).toBe(0)
  })
})
