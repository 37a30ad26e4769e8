import { afterEach, describe, expect, it } from 'vitest'
import { ModelError, OpenAIModel, type Usage } from '../../src/llm/index.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../fakes/openai.ts'

let fake: FakeOpenAI | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function model(handler: Handler): Promise<OpenAIModel> {
  fake = await startFakeOpenAI({ handler })
  return new OpenAIModel({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake-model', timeoutMs: 2_000 })
}

async function failure(p: Promise<unknown>): Promise<ModelError> {
  try {
    await p
  } catch (error) {
    expect(error).toBeInstanceOf(ModelError)
    return error as ModelError
  }
  throw new Error('expected the call to fail')
}

describe('OpenAIModel against an OpenAI-compatible server', () => {
  it('sends the system and user messages and returns the text', async () => {
    const m = await model((body) => ({ text: `hi ${body.messages.length}` }))
    expect(await m.text('hello', { system: 'be brief', temperature: 0.5 })).toBe('hi 2')
    const req = fake?.requests[0]
    expect(req?.body).toMatchObject({
      model: 'fake-model',
      temperature: 0.5,
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ],
    })
    expect(req?.headers.authorization).toBe('Bearer sk-test')
  })

  it('streams a completion: onText sees the answer grow as the server writes it', async () => {
    const text = 'Three ideas, written a few tokens at a time.'
    const m = await model(() => ({ text, pieceIntervalMs: 20 }))
    const seen: Array<{ text: string; at: number }> = []
    const got = await m.text('write', { onText: (t) => void seen.push({ text: t, at: performance.now() }) })
    expect(got).toBe(text)
    const req = fake?.requests[0]
    expect(req?.body.stream).toBe(true)
    expect(seen.length).toBeGreaterThanOrEqual(5)
    expect(seen.at(-1)?.text).toBe(text)
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]?.text.startsWith(seen[i - 1]?.text as string)).toBe(true)
    // The first piece reached us well before the server finished writing.
    expect((req?.finishedAt as number) - (seen[0]?.at as number)).toBeGreaterThan(60)
  })

  it('a stream that ends before its answer is finished is a transient failure', async () => {
    const m = await model(() => ({ text: '' }))
    expect(await failure(m.text('x'))).toMatchObject({ code: 'model_bad_response', transient: true })
  })

  it('a server that refuses to stream gets whole answers, remembered', async () => {
    const m = await model((body) => (body.stream ? { status: 400 } : { text: 'whole answer' }))
    expect(await m.text('one')).toBe('whole answer')
    expect(await m.text('two')).toBe('whole answer')
    expect(fake?.requests.map((r) => r.body.stream === true)).toEqual([true, false, false])
  })

  it('a request the server refuses either way stays refused, and streaming is tried again next time', async () => {
    let refuse = true
    const m = await model(() => (refuse ? { status: 400 } : { text: 'fine' }))
    expect(await failure(m.text('bad'))).toMatchObject({ code: 'model_bad_request' })
    refuse = false
    expect(await m.text('good')).toBe('fine')
    expect(fake?.requests.map((r) => r.body.stream === true)).toEqual([true, false, true])
  })

  it('a JSON call is not streamed (a partial document is of no use)', async () => {
    const m = await model(() => ({ text: '{"response": 1}' }))
    const seen: string[] = []
    await m.text('judge', {
      json: { name: 'pick', schema: { type: 'object' } },
      onText: (t) => void seen.push(t),
    })
    expect(fake?.requests[0]?.body.stream).toBeUndefined()
  })

  it('reports the usage of every call', async () => {
    const m = await model(() => ({ text: 'twelve chars' }))
    const seen: Usage[] = []
    await m.text('count me', { onUsage: (u) => seen.push(u) })
    expect(seen).toHaveLength(1)
    expect(seen[0]?.calls).toBe(1)
    expect(seen[0]?.completionTokens).toBe(3)
    expect(seen[0]?.promptTokens).toBeGreaterThan(0)
  })

  it('samples k answers with one streamed request using n, each handed over as its choice finishes', async () => {
    const m = await model(() => ({ texts: ['a', 'b', 'c'], choiceLatencyMs: [60, 0, 30] }))
    const seen: Array<[string, number]> = []
    const t0 = performance.now()
    const usage: Usage[] = []
    const got = await m.samples('q', 3, {
      onSample: (text) => void seen.push([text, performance.now() - t0]),
      onUsage: (u) => usage.push(u),
    })
    expect(got).toEqual({ texts: ['b', 'c', 'a'], failed: 0, notNeeded: 0 })
    expect(seen.map(([t]) => t)).toEqual(['b', 'c', 'a'])
    // The first choice arrived before the slowest one finished.
    expect(seen[0]?.[1]).toBeLessThan((seen[2]?.[1] ?? 0) - 20)
    expect(fake?.requests).toHaveLength(1)
    expect(fake?.requests[0]?.body).toMatchObject({
      n: 3,
      stream: true,
      stream_options: { include_usage: true },
    })
    // The prompt is billed once, for all three choices.
    expect(usage).toEqual([
      { calls: 1, promptTokens: fake?.requests[0]?.promptTokens, completionTokens: 3, model: 'fake-model' },
    ])
  })

  it('stops the stream when onSample says so, and the server sees it closed', async () => {
    const m = await model(() => ({
      texts: ['a', 'a', 'b', 'c', 'd'],
      choiceLatencyMs: [0, 10, 500, 500, 500],
    }))
    let n = 0
    const got = await m.samples('q', 5, { onSample: () => ++n === 2 })
    expect(got).toEqual({ texts: ['a', 'a'], failed: 0, notNeeded: 3 })
    await expect.poll(() => fake?.requests[0]?.aborted).toBe(true)
    expect(fake?.requests[0]?.choicesSent).toBe(2)
  })

  it('falls back to k parallel requests when the server ignores n, and remembers it', async () => {
    let i = 0
    const m = await model(() => ({ text: `s${++i}`, ignoreN: true }))
    expect((await m.samples('q', 3)).texts.sort()).toEqual(['s1', 's2', 's3'])
    expect(fake?.requests.map((r) => r.body.n)).toEqual([3, undefined, undefined])
    // The second vote knows: k single requests at once, no n.
    await m.samples('q', 3)
    expect(fake?.requests.slice(3).map((r) => r.body.n)).toEqual([undefined, undefined, undefined])
  })

  it('falls back to k parallel requests when the server refuses n', async () => {
    const m = await model((body) => ((body.n ?? 1) > 1 ? { status: 400 } : { text: 'one' }))
    expect((await m.samples('q', 2)).texts).toEqual(['one', 'one'])
    expect(fake?.requests.map((r) => r.body.n)).toEqual([2, undefined, undefined])
  })

  it('counts failed single requests and still returns the answers that came', async () => {
    let i = 0
    const m = await model(() => (++i === 3 ? { status: 401 } : { text: 'x', ignoreN: true }))
    const got = await m.samples('q', 3)
    expect(got).toMatchObject({ texts: ['x', 'x'], failed: 1, notNeeded: 0 })
    expect(got.error).toMatchObject({ code: 'model_auth' })
  })

  it('aborting the caller’s signal closes the sampling stream and rejects', async () => {
    const m = await model(() => ({ texts: ['a', 'b'], choiceLatencyMs: [0, 5_000] }))
    const controller = new AbortController()
    const call = m.samples('q', 2, { signal: controller.signal, onSample: () => void controller.abort() })
    expect(await failure(call)).toMatchObject({ code: 'model_aborted' })
    await expect.poll(() => fake?.requests[0]?.aborted).toBe(true)
  })

  it('classifies a 429 as transient with the server’s wait, from retry-after-ms or retry-after', async () => {
    const m = await model((_, r) =>
      r.prompt === 'ms'
        ? { status: 429, headers: { 'retry-after-ms': '250' } }
        : { status: 429, headers: { 'retry-after': '2' } },
    )
    const a = await failure(m.text('ms'))
    expect(a).toMatchObject({ code: 'model_rate_limited', transient: true, retryAfterMs: 250, status: 429 })
    const b = await failure(m.text('s'))
    expect(b.retryAfterMs).toBe(2_000)
    // The SDK's own retries are off: the engine owns the retry loop.
    expect(fake?.requests).toHaveLength(2)
  })

  it('classifies 500 as transient and 401 as an auth error that names the variable', async () => {
    const m = await model((_, r) => ({ status: r.prompt === 'auth' ? 401 : 500 }))
    expect(await failure(m.text('x'))).toMatchObject({ code: 'model_unavailable', transient: true })
    const auth = await failure(m.text('auth'))
    expect(auth).toMatchObject({ code: 'model_auth', transient: false })
    expect(auth.message).toContain('OPENAI_API_KEY')
  })

  it('classifies a malformed body as a transient bad response', async () => {
    const m = await model(() => ({ malformed: true }))
    expect(await failure(m.text('x'))).toMatchObject({ code: 'model_bad_response', transient: true })
  })

  it('classifies an empty answer as a bad response', async () => {
    const m = await model(() => ({ text: '   ' }))
    expect(await failure(m.text('x'))).toMatchObject({ code: 'model_bad_response' })
  })

  it('aborting the signal closes the request at the server', async () => {
    const m = await model(() => ({ hang: true }))
    const controller = new AbortController()
    const call = m.text('wait', { signal: controller.signal })
    await fake?.waitForRequests(1)
    controller.abort()
    expect(await failure(call)).toMatchObject({ code: 'model_aborted', transient: false })
    await expect.poll(() => fake?.requests[0]?.aborted).toBe(true)
  })

  it('a call’s timeoutMs shortens the request timeout, so it fits in the time its step has left', async () => {
    fake = await startFakeOpenAI({ handler: () => ({ hang: true }) })
    const m = new OpenAIModel({ apiKey: 'k', baseURL: fake.url, model: 'm', timeoutMs: 60_000 })
    const t0 = performance.now()
    expect(await failure(m.text('x', { timeoutMs: 150 }))).toMatchObject({ code: 'model_timeout' })
    expect(performance.now() - t0).toBeLessThan(2_000)
  }, 5_000)

  it('times out a hanging server as a transient timeout', async () => {
    fake = await startFakeOpenAI({ handler: () => ({ hang: true }) })
    const m = new OpenAIModel({ apiKey: 'k', baseURL: fake.url, model: 'm', timeoutMs: 100 })
    expect(await failure(m.text('x'))).toMatchObject({ code: 'model_timeout', transient: true })
  })
})
