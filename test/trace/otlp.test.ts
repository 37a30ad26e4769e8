/**
 * Traces of real `npm start` / `npm run worker` processes, received by a local OTLP/HTTP receiver in
 * the JSON encoding: one trace per run, the parent/child links, the GenAI attributes, the trace
 * unbroken from receiver to worker on Redis and across a restart, and no prompts unless asked.
 */
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { RedisStore, SqliteStore } from '../../src/store/index.ts'
import {
  answerButton,
  click,
  decideModel,
  isQuestion,
  sleep,
  slowAngles,
  statusOf,
} from '../durable/helpers.ts'
import { type Handler, startFakeOpenAI } from '../fakes/openai.ts'
import { type FakeOtlp, type ReceivedSpan, startFakeOtlp } from '../fakes/otlp.ts'
import { FAST_TIER, type Message, startFakeSlack } from '../fakes/slack.ts'
import { type ChorusProcess, killAll, scratchDir, socketModeEnv, startChorus } from '../support/chorus.ts'
import {
  deleteKeysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  whenRedis,
} from '../support/redis.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const KIND = { internal: 1, server: 2, client: 3 }

/** Every angle answers its own idea; the synthesis merges them. */
const ideas: Handler = (body) => {
  const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
  return angle === undefined
    ? { text: '1. **Merged idea** ranked first' }
    : { text: `- **${angle} idea**`, latencyMs: 20 }
}

async function setup(handler: Handler = ideas) {
  const slack = await startFakeSlack({ tier3: FAST_TIER })
  const openai = await startFakeOpenAI({ handler })
  const otlp = await startFakeOtlp()
  const scratch = scratchDir()
  cleanup.push(
    () => slack.close(),
    () => openai.close(),
    () => otlp.close(),
    () => scratch.remove(),
  )
  const env = {
    ...socketModeEnv(slack, openai),
    CHORUS_MODEL: 'fake',
    CHORUS_PRICES: 'fake=1/2',
    OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=secret%20key',
    OTEL_SERVICE_NAME: 'chorus-test',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  }
  const procs: ChorusProcess[] = []
  cleanup.push(() => killAll(procs))
  const start = async (extra: Record<string, string> = {}, entry: 'start' | 'worker' = 'start') => {
    const proc = await startChorus({ ...env, ...extra }, scratch.dir, entry)
    procs.push(proc)
    return proc
  }
  const brainstorm = async (topic: string, user = 'U777') => {
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', topic, { user_id: user }))
  }
  const done = (n: number) =>
    expect
      .poll(() => slack.posted().filter((m) => statusOf(m.text) === 'done').length, { timeout: 15_000 })
      .toBe(n)
  return { slack, openai, otlp, scratch, start, brainstorm, done }
}

/** The spans of the run whose `invoke_workflow` spans say `runId`, once `count` of those arrived. */
async function runSpans(otlp: FakeOtlp, count = 1): Promise<{ runId: string; spans: ReceivedSpan[] }> {
  await expect
    .poll(() => otlp.spans.filter((s) => s.name === 'invoke_workflow brainstorm').length, { timeout: 10_000 })
    .toBeGreaterThanOrEqual(count)
  // The batch after the run span (its reply spans ended just before it) has had time to arrive.
  await sleep(300)
  const runId = String(
    otlp.spans.find((s) => s.name === 'invoke_workflow brainstorm')?.attributes['chorus.run.id'],
  )
  const traceId = otlp.spans.find((s) => s.attributes['chorus.run.id'] === runId)?.traceId
  return { runId, spans: otlp.spans.filter((s) => s.traceId === traceId) }
}

const one = (spans: ReceivedSpan[], name: string): ReceivedSpan => {
  const found = spans.filter((s) => s.name === name)
  expect(found, name).toHaveLength(1)
  return found[0] as ReceivedSpan
}

describe('traces over OTLP/HTTP (JSON) from real processes', () => {
  it('one Slack /brainstorm on SQLite is one trace: accept → invoke_workflow → steps → chat, with the GenAI attributes and no content', async () => {
    const { otlp, start, brainstorm, done, scratch } = await setup()
    await start()
    await brainstorm('a name for our analytics product')
    await done(1)
    const { runId, spans } = await runSpans(otlp)
    // Every span of the run (and nothing else) is in this one trace.
    expect(new Set(otlp.spans.map((s) => s.traceId)).size).toBe(1)
    const accept = one(spans, 'accept brainstorm')
    const run = one(spans, 'invoke_workflow brainstorm')
    expect(accept.parentSpanId).toBe('')
    expect(accept.kind).toBe(KIND.server)
    expect(run.parentSpanId).toBe(accept.spanId)
    expect(run.attributes).toMatchObject({
      'gen_ai.operation.name': 'invoke_workflow',
      'gen_ai.workflow.name': 'brainstorm',
      'chorus.flow': 'brainstorm',
      'chorus.platform': 'slack',
      'enduser.id': 'U777',
      'chorus.run.outcome': 'completed',
      'chorus.run.resumed': false,
    })
    const steps = spans.filter((s) => s.name.startsWith('step '))
    expect(steps.map((s) => s.attributes['chorus.step.name']).sort()).toEqual(
      [
        'angle-analogy',
        'angle-contrarian',
        'angle-moonshot',
        'angle-constraint',
        'angle-user-pain',
        'first',
        'synthesis',
      ].sort(),
    )
    for (const step of steps) {
      expect(step.parentSpanId).toBe(run.spanId)
      expect(step.attributes['chorus.step.outcome']).toBe('completed')
    }
    const chats = spans.filter((s) => s.name === 'chat fake')
    expect(chats).toHaveLength(6)
    const stepIds = new Map(steps.map((s) => [s.spanId, s.attributes['chorus.step.name']]))
    for (const chat of chats) {
      expect(chat.kind).toBe(KIND.client)
      expect(stepIds.get(chat.parentSpanId)).toBe(chat.attributes['chorus.step.name'])
      expect(chat.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'fake',
        'gen_ai.response.model': 'fake',
        'chorus.run.id': runId,
      })
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0)
      expect(chat.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0)
      expect(chat.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0)
      expect(chat.startMs).toBeGreaterThanOrEqual(stepOf(spans, chat).startMs)
    }
    // The run's tokens are its calls' tokens; the cost comes from CHORUS_PRICES (1 and 2 USD per 1M).
    const sum = (key: string) => chats.reduce((n, c) => n + Number(c.attributes[key]), 0)
    expect(run.attributes['gen_ai.usage.input_tokens']).toBe(sum('gen_ai.usage.input_tokens'))
    expect(run.attributes['gen_ai.usage.output_tokens']).toBe(sum('gen_ai.usage.output_tokens'))
    expect(run.attributes['chorus.cost_usd']).toBeCloseTo(
      (sum('gen_ai.usage.input_tokens') * 1 + sum('gen_ai.usage.output_tokens') * 2) / 1e6,
      12,
    )
    // The replies: first result, then the final, both inside the run.
    const first = one(spans, 'reply first')
    const final = one(spans, 'reply final')
    for (const reply of [first, final]) expect(reply.parentSpanId).toBe(run.spanId)
    expect(final.endMs).toBeGreaterThanOrEqual(first.endMs)
    expect(run.endMs).toBeGreaterThanOrEqual(final.endMs)
    // No prompt or answer unless asked.
    const all = JSON.stringify(spans)
    expect(all).not.toContain('gen_ai.input.messages')
    expect(all).not.toContain('gen_ai.output.messages')
    expect(all).not.toContain('analytics product')
    // The standard variables: headers and service name; the journal keeps the trace context.
    expect(otlp.requests.every((r) => r.headers['x-api-key'] === 'secret key')).toBe(true)
    expect(otlp.refused).toEqual([])
    expect(run.resource['service.name']).toBe('chorus-test')
    const journal = new SqliteStore(`${scratch.dir}/.chorus/chorus.db`)
    expect((await journal.get(runId))?.traceparent).toBe(`00-${run.traceId}-${accept.spanId}-01`)
    await journal.close()
  }, 60_000)

  it('with OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true the chat spans carry the prompts and answers', async () => {
    const { otlp, slack, start, brainstorm, done } = await setup()
    await start({ OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' })
    await brainstorm('lunch ideas --angles 2')
    await done(1)
    const { spans } = await runSpans(otlp)
    const chats = spans.filter((s) => s.name === 'chat fake')
    expect(chats).toHaveLength(3)
    const angle = chats.find((c) => c.attributes['chorus.step.name'] === 'angle-user-pain') as ReceivedSpan
    const input = JSON.parse(String(angle.attributes['gen_ai.input.messages'])) as Array<{
      role: string
      parts: Array<{ type: string; content: string }>
    }>
    expect(input[0]?.role).toBe('user')
    expect(input[0]?.parts[0]?.content).toContain('lunch ideas')
    expect(JSON.parse(String(angle.attributes['gen_ai.output.messages']))).toEqual([
      {
        role: 'assistant',
        parts: [{ type: 'text', content: '- **User pain idea**' }],
        finish_reason: 'stop',
      },
    ])
    // Again on the reply is a new run in a trace of its own, linked to the one it reruns.
    const accept = one(spans, 'accept brainstorm')
    await click(slack, slack.posted()[0] as Message, 'chorus_retry')
    await done(2)
    await expect.poll(() => otlp.spans.filter((s) => s.name === 'invoke_workflow brainstorm').length).toBe(2)
    const again = otlp.spans.filter((s) => s.name === 'accept brainstorm' && s.traceId !== accept.traceId)
    expect(again).toHaveLength(1)
    expect(again[0]?.links).toEqual([
      { traceId: accept.traceId, spanId: accept.spanId, attributes: { 'chorus.link': 'rerun_of' } },
    ])
    // Who clicked asked for it: grace, U2 in the fake Slack.
    expect(again[0]?.attributes['enduser.id']).toBe('U2')
  }, 60_000)

  it('a /decide that waits for people: its run span ends as parked; the votes wake it into a new, linked run span of the same trace', async () => {
    const { otlp, slack, start, done } = await setup(decideModel)
    const chorus = await start()
    await slack.send('slash_commands', slack.slashPayload('/decide', 'Which database? --quorum 2 --for 10m'))
    await chorus.waitForLog((l) => l.msg === 'run.parked', 10_000)
    await expect.poll(() => otlp.spans.filter((s) => s.name === 'invoke_workflow decide').length).toBe(1)
    const vote = slack.posted().find(isQuestion) as Message
    await slack.click(vote, answerButton(vote, 'Postgres'), { id: 'U2', name: 'grace' })
    await slack.click(vote, answerButton(vote, 'Postgres'), { id: 'U3', name: 'carol' })
    await done(1)
    await expect.poll(() => otlp.spans.filter((s) => s.name === 'invoke_workflow decide').length).toBe(2)
    await sleep(300)
    const accept = one(otlp.spans, 'accept decide')
    const [parked, woken] = otlp.spans
      .filter((s) => s.name === 'invoke_workflow decide')
      .sort((a, b) => a.startMs - b.startMs) as [ReceivedSpan, ReceivedSpan]
    for (const run of [parked, woken]) {
      expect(run.traceId).toBe(accept.traceId)
      expect(run.parentSpanId).toBe(accept.spanId)
    }
    expect(parked.attributes['chorus.run.outcome']).toBe('parked')
    expect(woken.attributes['chorus.run.outcome']).toBe('completed')
    expect(woken.attributes['chorus.run.resumed']).toBe(true)
    expect(woken.links.map((l) => l.spanId)).toEqual([accept.spanId])
    // The proposers ran once, before the wait: after it they are replayed from the journal.
    const proposers = otlp.spans.filter((s) => s.name.startsWith('step propose-'))
    expect(
      proposers
        .filter((s) => s.parentSpanId === parked.spanId)
        .map((s) => s.attributes['chorus.step.outcome']),
    ).toEqual(['completed', 'completed', 'completed'])
    expect(
      proposers
        .filter((s) => s.parentSpanId === woken.spanId)
        .map((s) => s.attributes['chorus.step.outcome']),
    ).toEqual(['resumed', 'resumed', 'resumed'])
    expect(otlp.spans.filter((s) => s.name === 'chat fake' && s.parentSpanId !== '')).toHaveLength(4)
  }, 60_000)

  it('a run resumed after kill -9 continues its trace: a new run span, linked, its journaled steps marked resumed', async () => {
    const model = slowAngles()
    const { otlp, openai, start, brainstorm, done } = await setup(model.handler)
    const first = await start()
    await brainstorm('a name for our analytics product')
    await expect.poll(() => openai.requests.filter((r) => r.answered).length, { timeout: 10_000 }).toBe(2)
    // The fast angles' spans were sent before the kill.
    await expect
      .poll(() => otlp.spans.filter((s) => s.name === 'chat fake').length, { timeout: 5_000 })
      .toBe(2)
    first.kill('SIGKILL')
    await first.exited
    model.release()
    await start()
    await done(1)
    const { spans } = await runSpans(otlp)
    const accept = one(spans, 'accept brainstorm')
    const run = one(spans, 'invoke_workflow brainstorm')
    expect(run.parentSpanId).toBe(accept.spanId)
    expect(run.attributes['chorus.run.resumed']).toBe(true)
    expect(run.links).toEqual([
      { traceId: accept.traceId, spanId: accept.spanId, attributes: { 'chorus.link': 'resumed' } },
    ])
    const resumed = spans.filter(
      (s) => s.parentSpanId === run.spanId && s.attributes['chorus.step.resumed'] === true,
    )
    expect(resumed.map((s) => s.attributes['chorus.step.name']).sort()).toEqual(
      ['angle-contrarian', 'angle-user-pain', 'first'].sort(),
    )
    for (const s of resumed) expect(s.attributes['chorus.step.outcome']).toBe('resumed')
    // The calls made before the kill and after it are all in the run's one trace.
    expect(spans.filter((s) => s.name === 'chat fake')).toHaveLength(2 + 4)
    expect(new Set(otlp.spans.map((s) => s.traceId))).toEqual(new Set([accept.traceId]))
  }, 60_000)
})

whenRedis(await redisTestsEnabled(), () =>
  describe('traces over OTLP/HTTP (JSON) across processes on Redis', () => {
    it('on Redis the trace is unbroken from the receiver (npm start) through the queue to the worker (npm run worker)', async () => {
      const prefix = testPrefix()
      const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 })
      cleanup.push(async () => {
        await deleteKeysUnder(redis, prefix)
        redis.disconnect()
      })
      const { otlp, start, brainstorm, done } = await setup()
      const redisEnv = { REDIS_URL: TEST_REDIS_URL, CHORUS_REDIS_PREFIX: prefix }
      const receiver = await start({ ...redisEnv, CHORUS_WORKER_RUNS: '0' })
      const worker = await start(redisEnv, 'worker')
      await brainstorm('a name for our analytics product')
      await done(1)
      const { runId, spans } = await runSpans(otlp)
      const accept = one(spans, 'accept brainstorm')
      const run = one(spans, 'invoke_workflow brainstorm')
      // Two processes, one trace: the receiver's span is the worker's run span's parent.
      expect(accept.resource['process.pid']).toBe(receiver.child.pid)
      expect(accept.resource['chorus.role']).toBe('receiver')
      expect(run.resource['process.pid']).toBe(worker.child.pid)
      expect(run.resource['chorus.role']).toBe('worker')
      expect(run.parentSpanId).toBe(accept.spanId)
      expect(run.traceId).toBe(accept.traceId)
      const chats = spans.filter((s) => s.name === 'chat fake')
      expect(chats).toHaveLength(6)
      for (const s of spans.filter((s) => s !== accept))
        expect(s.resource['process.pid']).toBe(worker.child.pid)
      const store = new RedisStore({ redis: TEST_REDIS_URL, prefix })
      expect((await store.get(runId))?.traceparent).toBe(`00-${run.traceId}-${accept.spanId}-01`)
      await store.close()
    }, 60_000)
  }),
)

function stepOf(spans: ReceivedSpan[], chat: ReceivedSpan): ReceivedSpan {
  return spans.find((s) => s.spanId === chat.parentSpanId) as ReceivedSpan
}
