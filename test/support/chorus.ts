/**
 * Chorus as a real child process (`node src/main.ts`), for tests that kill it: JSON log lines are
 * collected from stdout, and the process can be killed with any signal.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { APP_TOKEN, BOT_TOKEN, FAST_WRITES_PER_MIN } from '../fakes/slack.ts'

const ENTRIES = {
  /** `npm start` */
  start: fileURLToPath(new URL('../../src/main.ts', import.meta.url)),
  /** `npm run worker` */
  worker: fileURLToPath(new URL('../../src/worker.ts', import.meta.url)),
}

export interface LogLine {
  msg: string
  level: number
  [key: string]: unknown
}

export interface ChorusProcess {
  child: ChildProcess
  logs: LogLine[]
  stderr: string[]
  /** Resolves with the first log line (past or future) that matches; rejects after `timeoutMs`. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal: NodeJS.Signals): void
}

/**
 * The environment of a Chorus child on the fake Slack in Socket Mode (its Tier 3 raised with
 * `FAST_TIER`, and Chorus' edit budget with it) and the fake OpenAI; a test adds its model and the rest.
 */
export function socketModeEnv(slack: { apiUrl: string }, openai: { url: string }): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    CHORUS_SLACK_WRITES_PER_MIN: FAST_WRITES_PER_MIN,
    OPENAI_API_KEY: 'sk-test',
    OPENAI_BASE_URL: openai.url,
  }
}

/** A scratch working directory (holding `.chorus/`), removed by `remove`. */
export function scratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-proc-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Ends the processes a test started (kill -9) and waits until each has exited, so none outlives it. */
export async function killAll(procs: ChorusProcess[]): Promise<void> {
  for (const p of procs) p.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.exited))
}

/** Starts Chorus with exactly `env` (plus PATH), in `cwd`; resolves once its journal has been resumed. */
export async function startChorus(
  env: Record<string, string>,
  cwd: string,
  entry: keyof typeof ENTRIES = 'start',
): Promise<ChorusProcess> {
  const child = spawn(process.execPath, [ENTRIES[entry]], {
    cwd,
    // No ops server unless a test asks for one: several processes run side by side.
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', CHORUS_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const logs: LogLine[] = []
  const stderr: string[] = []
  const waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = []
  let buffered = ''
  child.stdout?.setEncoding('utf8')
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const raw of lines) {
      if (raw.trim() === '') continue
      let line: LogLine
      try {
        line = JSON.parse(raw) as LogLine
      } catch {
        line = { msg: raw, level: 30 }
      }
      logs.push(line)
      for (const w of [...waiters]) {
        if (!w.match(line)) continue
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(line)
      }
    }
  })
  child.stderr?.setEncoding('utf8')
  child.stderr?.on('data', (chunk: string) => stderr.push(chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const proc: ChorusProcess = {
    child,
    logs,
    stderr,
    waitForLog(match, timeoutMs = 15_000) {
      const seen = logs.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.join('')}`))
        }, timeoutMs)
        waiters.push({
          match,
          resolve: (line) => {
            clearTimeout(timer)
            resolve(line)
          },
        })
      })
    },
    exited,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
  }
  try {
    await Promise.race([
      proc.waitForLog((l) => l.msg === 'journal.resumed', 20_000),
      exited.then(({ code }) => {
        throw new Error(`Chorus exited with ${code} before it was ready: ${stderr.join('')}`)
      }),
    ])
  } catch (error) {
    // A process that never got ready is nobody's to stop later.
    proc.kill('SIGKILL')
    throw error
  }
  return proc
}
