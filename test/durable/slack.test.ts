import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStore } from '../../src/store/index.ts'
import { type Handler, startFakeOpenAI } from '../fakes/openai.ts'
import { BOT_TOKEN, FAST_TIER, type Message, startFakeSlack } from '../fakes/slack.ts'
import { type ChorusProcess, killAll, scratchDir, socketModeEnv, startChorus } from '../support/chorus.ts'
import {
  click,
  expectOneFirstAndOneFinal,
  hasButton,
  promptCounts,
  sleep,
  slowAngles,
  statusOf,
} from './helpers.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function setup(handler: Parameters<typeof startFakeOpenAI>[0] = {}) {
  const slack = await startFakeSlack({ tier3: FAST_TIER })
  const openai = await startFakeOpenAI(handler)
  const scratch = scratchDir()
  cleanup.push(
    () => slack.close(),
    () => openai.close(),
    () => scratch.remove(),
  )
  const env = {
    ...socketModeEnv(slack, openai),
    CHORUS_MODEL: 'fake',
    CHORUS_CONCURRENCY: '128',
  }
  const procs: ChorusProcess[] = []
  cleanup.push(() => killAll(procs))
  const start = async (extra: Record<string, string> = {}) => {
    const proc = await startChorus({ ...env, ...extra }, scratch.dir)
    procs.push(proc)
    return proc
  }
  return { slack, openai, scratch, start }
}

describe('Slack runs survive the process (real child processes, SQLite journal)', () => {
  it('kill -9 with 20 runs in flight: after a restart each gets one first and one final, no step is called twice', async () => {
    const model = slowAngles()
    const { slack, openai, start } = await setup({ handler: model.handler })
    const chorus = await start()
    for (let i = 0; i < 20; i++) {
      await slack.send('slash_commands', slack.slashPayload('/brainstorm', `topic ${i}`))
    }
    // Every run has its fast angles answered and journaled; the slow ones hang at the model.
    await expect.poll(() => openai.requests.filter((r) => r.answered).length, { timeout: 10_000 }).toBe(40)
    await sleep(300)
    const answeredBefore = new Set(openai.requests.filter((r) => r.answered).map((r) => r.prompt))
    const firstsBefore = slack.posted().filter((m) => statusOf(m.text) === 'first result').length
    chorus.kill('SIGKILL')
    await chorus.exited
    expect(slack.posted()).toHaveLength(20)
    expect(slack.posted().every((m) => statusOf(m.text) !== 'done')).toBe(true)
    expect(firstsBefore).toBeGreaterThan(0)

    model.release()
    const again = await start()
    const resumed = again.logs.find((l) => l.msg === 'journal.resumed')
    expect(resumed?.resumed).toBe(20)
    await expect
      .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'done').length, { timeout: 20_000 })
      .toBe(20)
    expect(slack.posted()).toHaveLength(20)
    expect(slack.calls.filter((c) => c.method === 'chat.postMessage')).toHaveLength(20)
    for (const message of slack.posted()) expectOneFirstAndOneFinal(message)
    const counts = promptCounts(openai.requests)
    for (const prompt of answeredBefore) expect(counts.get(prompt), prompt).toBe(1)
  }, 60_000)

  it('SIGTERM: runs that fit in the grace finish, the rest say they continue and do after the next start', async () => {
    const model = slowAngles()
    const { slack, start, scratch } = await setup({ handler: model.handler })
    const chorus = await start({ CHORUS_SHUTDOWN_GRACE_MS: '800' })
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'quick --angles 2'))
    for (let i = 0; i < 4; i++)
      await slack.send('slash_commands', slack.slashPayload('/brainstorm', `slow ${i}`))
    await expect
      .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'done').length, { timeout: 5_000 })
      .toBe(1)
    await expect.poll(() => slack.posted().filter((m) => statusOf(m.text) === 'first result').length).toBe(4)
    const t0 = performance.now()
    chorus.kill('SIGTERM')
    // A command arriving while it drains gets a clear word instead of silence.
    await sleep(100)
    const draining = await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'too late'))
    expect(JSON.stringify(draining.payload)).toContain('restarting')
    const exit = await chorus.exited
    expect(exit.code).toBe(0)
    expect(performance.now() - t0).toBeLessThan(5_000)
    const waiting = slack.posted().filter((m) => statusOf(m.text) !== 'done')
    expect(waiting).toHaveLength(4)
    for (const m of waiting) expect(JSON.stringify(m.blocks)).toContain('continue in a moment')

    const journal = new SqliteStore(`${scratch.dir}/.chorus/chorus.db`)
    expect(await journal.unfinished()).toHaveLength(4)
    await journal.close()

    model.release()
    await start()
    await expect
      .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'done').length, { timeout: 15_000 })
      .toBe(5)
    expect(slack.posted()).toHaveLength(5)
    for (const message of slack.posted()) expectOneFirstAndOneFinal(message)
    for (const m of slack.posted()) expect(JSON.stringify(m.blocks)).not.toContain('continue in a moment')
  }, 60_000)

  it('runs a command redelivered after a restart only once', async () => {
    const { slack, start } = await setup({ handler: () => ({ text: '- **idea**' }) })
    const chorus = await start()
    const payload = slack.slashPayload('/brainstorm', 'lunch --angles 2')
    await slack.send('slash_commands', payload)
    await expect.poll(() => statusOf(slack.posted()[0]?.text ?? ''), { timeout: 5_000 }).toBe('done')
    chorus.kill('SIGKILL')
    await chorus.exited
    await start()
    const ack = await slack.send('slash_commands', payload)
    expect(ack.ms).toBeLessThan(3_000)
    await sleep(500)
    expect(slack.posted()).toHaveLength(1)
  }, 30_000)
})

describe('no frame kills the process (npm start, real child process)', () => {
  it('three malformed Socket Mode envelopes, then a command: a run in flight and the new one both finish', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    // The in-flight run's slow angles answer only once the bad frames have been sent.
    const handler: Handler = async (body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      if (angle === undefined) return { text: '1. **Merged idea**' }
      if (angle !== 'User pain') await gate
      return { text: `- **${angle} idea**` }
    }
    const { slack, start } = await setup({ handler })
    const chorus = await start()
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'in flight'))
    await expect.poll(() => statusOf(slack.posted()[0]?.text ?? '')).toBe('first result')
    await slack.sendRaw({ envelope_id: 'e1', type: 'events_api', accepts_response_payload: false })
    await slack.sendRaw({ envelope_id: 'e2', type: 'events_api', payload: { type: 'event_callback' } })
    await slack.sendRaw(null)
    release()
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'after the bad frames --angles 2'))
    await expect
      .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'done').length, { timeout: 10_000 })
      .toBe(2)
    expect(chorus.child.exitCode).toBeNull()
    expect(chorus.logs.filter((l) => l.msg === 'slack.frame_malformed')).toHaveLength(3)
  }, 30_000)
})

describe('Stop and Retry tell the truth across restarts', () => {
  it('on a resumed run, a finished run and an abandoned run', async () => {
    const model = slowAngles()
    const { slack, start, scratch } = await setup({ handler: model.handler })
    // An abandoned run: journaled two hours ago by a process that died; its message still says working.
    const posted = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BOT_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ channel: 'C1', text: 'Brainstorm: old: working', blocks: [] }),
    }).then((r) => r.json() as Promise<{ ts: string }>)
    const journal = new SqliteStore(`${scratch.dir}/.chorus/chorus.db`)
    await journal.create({
      id: 'old-run',
      command: 'brainstorm',
      input: { topic: 'old', angles: 2 },
      user: 'ada',
      target: { platform: 'slack', channel: 'C1', ts: posted.ts },
      createdAt: Date.now() - 2 * 60 * 60_000,
    })
    await journal.close()

    const chorus = await start()
    const abandoned = slack.messages.get(posted.ts) as Message
    await expect.poll(() => statusOf(abandoned.text)).toBe('failed')
    expect(JSON.stringify(abandoned.blocks)).toContain('could not be finished in time')
    expect(hasButton(abandoned, 'chorus_retry')).toBe(true)

    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'resumed one'))
    await expect.poll(() => slack.posted().filter((m) => statusOf(m.text) === 'first result').length).toBe(1)
    chorus.kill('SIGKILL')
    await chorus.exited
    await start()
    const resumed = slack.posted().find((m) => m.text.includes('resumed one')) as Message

    // Stop on the resumed run: it stops, says by whom, and offers Retry.
    await click(slack, resumed, 'chorus_stop')
    await expect.poll(() => statusOf(resumed.text)).toBe('stopped')
    expect(JSON.stringify(resumed.blocks)).toContain('Stopped by grace')
    expect(hasButton(resumed, 'chorus_retry')).toBe(true)
    expect(hasButton(resumed, 'chorus_stop')).toBe(false)

    // Stop on runs that ended: "already finished", and only then.
    const before = slack.responses.length
    await click(slack, resumed, 'chorus_stop')
    await click(slack, abandoned, 'chorus_stop')
    await expect.poll(() => slack.responses.length).toBe(before + 2)
    for (const r of slack.responses.slice(before)) expect(r.body.text).toBe('That run has already finished.')

    // Retry on the stopped and on the abandoned run: each runs again, as a new message, for whoever pressed it.
    model.release()
    await click(slack, resumed, 'chorus_retry', 'linus')
    await click(slack, abandoned, 'chorus_retry', 'linus')
    await expect
      .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'done').length, { timeout: 10_000 })
      .toBe(2)
    const retried = slack.posted().filter((m) => statusOf(m.text) === 'done')
    expect(retried.map((m) => m.text).sort()).toEqual([
      'Brainstorm: old: done',
      'Brainstorm: resumed one: done',
    ])
    for (const m of retried) expect(JSON.stringify(m.blocks)).toContain('Asked by linus')
    // The old messages keep their ending; nothing else changed them.
    expect(statusOf(resumed.text)).toBe('stopped')
    expect(statusOf(abandoned.text)).toBe('failed')
  }, 60_000)
})
