import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkFlows, loadFlows } from '../../src/bot/index.ts'

const root = resolve(import.meta.dirname, '../..')
const fixtures = resolve(import.meta.dirname, 'fixtures')

/** `npm run flows:check [dir]` as CI runs it: a child process. */
function flowsCheck(...args: string[]) {
  const child = spawnSync(process.execPath, ['scripts/flows-check.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
  })
  return { code: child.status, stdout: child.stdout, stderr: child.stderr }
}

describe('flow files beside TypeScript flows', () => {
  it('loadFlows reads .yaml, .yml and .json files as commands, with options as a TS flow has them', async () => {
    const flows = await loadFlows(resolve(fixtures, 'good/flows'))
    expect(flows.map((r) => r.command.name)).toEqual(['echo', 'pick'])
    const pick = flows[1]
    expect(pick?.command.usage).toBe(
      '/pick <question> [--voters 2-9] [--style short|long] [--explain boolean]',
    )
    expect(pick?.command.options.map((o) => [o.name, o.type, o.required, o.default])).toEqual([
      ['question', 'string', true, undefined],
      ['voters', 'integer', false, 5],
      ['style', 'string', false, 'short'],
      ['explain', 'boolean', false, undefined],
    ])
    expect(pick?.flow.meta).toMatchObject({ models: { answer: 'gpt-4o-mini' }, noun: 'tasks' })
  })

  it('flows/standup.yaml is a command', async () => {
    const standup = (await loadFlows()).find((r) => r.command.name === 'standup')
    expect(standup?.command).toMatchObject({ usage: '/standup <notes>', noun: 'tasks' })
    expect(standup?.command.options[0]).toMatchObject({ name: 'notes', maxLength: 2000, primary: true })
  })

  it('a file flow that takes the name of a TS flow stops loading, naming both files', async () => {
    await expect(loadFlows(resolve(fixtures, 'clash/flows'))).rejects.toThrow(
      "flows/slogans.yaml:1:7: the flow name 'brand' is also the name of flows/brand.ts. Give one of the two flows another name",
    )
  })

  it('checkFlows goes past a bad file and reports every problem of it', async () => {
    const report = await checkFlows(resolve(fixtures, 'bad/flows'))
    expect(report.registered.map((r) => r.command.name)).toEqual(['echo'])
    expect(report.errors.map((e) => (e as Error).message)).toEqual([
      "flows/broken.yaml:7:35: step 'summary' listens to 'blockers', which is no step or label of this flow. Name one of: wins\n" +
        "flows/broken.yaml:7:66: {{next}} in step 'summary': no option or step it listens to is called 'next'. Use one of: notes, wins, values",
    ])
  })
})

describe('npm run flows:check', () => {
  it('says ok with the flows it loaded', () => {
    expect(flowsCheck('test/flowfile/fixtures/good/flows')).toEqual({
      code: 0,
      stdout: 'ok: 2 flows (echo, pick)\n',
      stderr: '',
    })
    const all = flowsCheck()
    expect(all.code).toBe(0)
    expect(all.stdout).toMatch(/^ok: \d+ flows \(.*\bstandup\b.*\)\n$/)
  })

  it('prints the errors and exits 1', () => {
    const { code, stdout, stderr } = flowsCheck('test/flowfile/fixtures/bad/flows')
    expect(code).toBe(1)
    expect(stdout).toBe('')
    expect(stderr).toBe(
      "flows/broken.yaml:7:35: step 'summary' listens to 'blockers', which is no step or label of this flow. Name one of: wins\n" +
        "flows/broken.yaml:7:66: {{next}} in step 'summary': no option or step it listens to is called 'next'. Use one of: notes, wins, values\n" +
        '1 of 2 flows did not load\n',
    )
  })
})
