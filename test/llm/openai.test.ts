import OpenAI from 'openai'
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

  it('reports the usage of every call', async () => {
    const m = await model(() => ({ text: 'twelve chars' }))
    const seen: Usage[] = []
    await m.text('count me', { onUsage: (u) => seen.push(u) })
    expect(seen).toHaveLength(1)
    expect(seen[0]?.calls).toBe(1)
    expect(seen[0]?.completionTokens).toBe(3)
    expect(seen[0]?.promptTokens).toBeGreaterThan(0)
  })

  it('asks for k samples with one request using n', async () => {
    const m = await model(() => ({ texts: ['a', 'b', 'c'] }))
    expect(await m.samples('q', 3)).toEqual(['a', 'b', 'c'])
    expect(fake?.requests).toHaveLength(1)
    expect(fake?.requests[0]?.body.n).toBe(3)
  })

  it('tops up with single calls when the server ignores n', async () => {
    let i = 0
    const m = await model(() => ({ text: `s${++i}`, ignoreN: true }))
    expect(await m.samples('q', 3)).toEqual(['s1', 's2', 's3'])
    expect(fake?.requests).toHaveLength(3)
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

  it('the fake streams chunks and usage the way the SDK reads them', async () => {
    fake = await startFakeOpenAI({ handler: () => ({ text: 'streamed answer here' }) })
    const client = new OpenAI({ apiKey: 'k', baseURL: fake.url, maxRetries: 0 })
    const stream = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'x' }],
      stream: true,
      stream_options: { include_usage: true },
    })
    let text = ''
    let usage: unknown
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? ''
      if (chunk.usage) usage = chunk.usage
    }
    expect(text).toBe('streamed answer here')
    expect(usage).toMatchObject({ completion_tokens: 5 })
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
