import { afterEach, describe, expect, it } from 'vitest'
import { hash, mulberry32, OpenAIModel, type Usage } from '../../src/llm/index.ts'
import {
  type FakeChunk,
  type FakeOpenAI,
  type Handler,
  interleaved,
  startFakeOpenAI,
} from '../fakes/openai.ts'

let fake: FakeOpenAI | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function model(handler: Handler): Promise<OpenAIModel> {
  fake = await startFakeOpenAI({ handler })
  return new OpenAIModel({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake-model', timeoutMs: 5_000 })
}

/** The surface forms: a server that streams each split in the middle (`PAR` + `IS!`). */
const FORMS = ['PARIS!', 'The answer is Paris', '«Paris»', '- Nice', '**Paris**', 'paris.', 'marseille.']
const SEEDS = 200

/** Five answers drawn from the prompt's seed, and their stream script. */
function script(prompt: string): { texts: string[]; chunks: FakeChunk[] } {
  const rand = mulberry32(hash(prompt))
  const texts = Array.from({ length: 5 }, () => FORMS[Math.floor(rand() * FORMS.length)] as string)
  return { texts, chunks: interleaved(texts, rand) }
}

/** The order in which a script finishes its choices. */
function finishOrder(chunks: FakeChunk[]): number[] {
  return chunks.flatMap((c) => c.choices.filter((choice) => choice.finish).map((choice) => choice.index))
}

describe('choices of an n request streamed in split, interleaved pieces', () => {
  it(`each sample is its own choice's whole text, in finishing order (${SEEDS} interleavings)`, async () => {
    const m = await model((body) => ({ chunks: script(body.messages.at(-1)?.content ?? '').chunks }))
    const wrong: string[] = []
    for (let seed = 0; seed < SEEDS; seed++) {
      const { texts, chunks } = script(`q${seed}`)
      const got = await m.samples(`q${seed}`, 5)
      const expected = finishOrder(chunks).map((i) => texts[i])
      if (JSON.stringify(got.texts) !== JSON.stringify(expected))
        wrong.push(`seed ${seed}: ${JSON.stringify(got.texts)} for ${JSON.stringify(expected)}`)
    }
    expect(wrong).toEqual([])
    // One n = 5 request per sampling: the server was read as honouring n throughout.
    expect(fake?.requests.map((r) => r.body.n)).toEqual(Array.from({ length: SEEDS }, () => 5))
  })

  it('an early stop hands over only whole texts, the ones that finished first', async () => {
    const m = await model((body) => ({ chunks: script(body.messages.at(-1)?.content ?? '').chunks }))
    const wrong: string[] = []
    for (let seed = 0; seed < SEEDS; seed++) {
      const { texts, chunks } = script(`q${seed}`)
      const stopAfter = 1 + (seed % 4)
      let seen = 0
      const got = await m.samples(`q${seed}`, 5, { onSample: () => ++seen === stopAfter })
      const expected = finishOrder(chunks)
        .slice(0, stopAfter)
        .map((i) => texts[i])
      if (JSON.stringify(got.texts) !== JSON.stringify(expected) || got.notNeeded !== 5 - stopAfter)
        wrong.push(`seed ${seed}: ${JSON.stringify(got)} for ${JSON.stringify(expected)}`)
    }
    expect(wrong).toEqual([])
  })
})

describe('servers that differ from OpenAI', () => {
  it('a server that ignores stream is read as the whole completion it sent, then asked for whole answers', async () => {
    const m = await model(() => ({ text: 'whole answer', ignoreStream: true }))
    const usage: Usage[] = []
    expect(await m.text('one', { onUsage: (u) => usage.push(u) })).toBe('whole answer')
    expect(await m.text('two')).toBe('whole answer')
    expect(fake?.requests.map((r) => r.body.stream === true)).toEqual([true, false])
    expect(usage).toEqual([
      { calls: 1, promptTokens: fake?.requests[0]?.promptTokens, completionTokens: 3, model: 'fake-model' },
    ])
  })

  it('samples from a server that ignores stream: the completion’s n choices in index order, one request', async () => {
    const m = await model(() => ({ texts: ['a', 'b', 'c'], ignoreStream: true }))
    expect(await m.samples('q', 3)).toEqual({ texts: ['a', 'b', 'c'], failed: 0, notNeeded: 0 })
    expect(await m.samples('q', 3)).toEqual({ texts: ['a', 'b', 'c'], failed: 0, notNeeded: 0 })
    expect(fake?.requests.map((r) => [r.body.n, r.body.stream === true])).toEqual([
      [3, true],
      [3, false],
    ])
  })

  it('an early stop over a whole completion takes only the samples it needs', async () => {
    const m = await model(() => ({ texts: ['a', 'a', 'b'], ignoreStream: true }))
    let seen = 0
    expect(await m.samples('q', 3, { onSample: () => ++seen === 2 })).toEqual({
      texts: ['a', 'a'],
      failed: 0,
      notNeeded: 1,
    })
  })

  it('a server that ignores stream and n gets k requests, each read whole', async () => {
    let i = 0
    const m = await model(() => ({ text: `s${++i}`, ignoreStream: true, ignoreN: true }))
    expect((await m.samples('q', 3)).texts.sort()).toEqual(['s1', 's2', 's3'])
    expect(fake?.requests.map((r) => [r.body.n, r.body.stream === true])).toEqual([
      [3, true],
      [undefined, false],
      [undefined, false],
    ])
  })

  it('a server that refuses stream still gets its samples, and is asked with n again, whole', async () => {
    const m = await model((body) => (body.stream ? { status: 400 } : { texts: ['a', 'b', 'c'] }))
    // n = 3 streamed is refused; single streamed requests are refused too, and asked again whole.
    expect((await m.samples('q', 3)).texts).toEqual(['a', 'a', 'a'])
    const asked = (from: number) =>
      fake?.requests.slice(from).map((r) => `${r.body.n ?? 1}${r.body.stream ? ' streamed' : ''}`)
    expect(asked(0)?.sort()).toEqual(['1', '1', '1', '1 streamed', '1 streamed', '1 streamed', '3 streamed'])
    expect(await m.samples('q', 3)).toEqual({ texts: ['a', 'b', 'c'], failed: 0, notNeeded: 0 })
    expect(await m.text('one')).toBe('a')
    expect(asked(7)).toEqual(['3', '1'])
  })

  it('a stream without a usage chunk (stream_options ignored) reports an estimate of what it spent', async () => {
    const m = await model(() => ({ texts: ['twelve chars', 'four'], noUsage: true }))
    const usage: Usage[] = []
    await m.text('count me', { onUsage: (u) => usage.push(u) })
    await m.samples('count us', 2, { onUsage: (u) => usage.push(u) })
    expect(fake?.requests.map((r) => r.body.stream_options)).toEqual([
      { include_usage: true },
      { include_usage: true },
    ])
    // About 4 characters a token, as the server counts them here.
    expect(usage).toEqual([
      { calls: 1, promptTokens: fake?.requests[0]?.promptTokens, completionTokens: 3, model: 'fake-model' },
      { calls: 1, promptTokens: fake?.requests[1]?.promptTokens, completionTokens: 4, model: 'fake-model' },
    ])
  })

  it('a whole completion without usage reports an estimate too', async () => {
    const m = await model(() => ({ text: 'twelve chars', ignoreStream: true, noUsage: true }))
    const usage: Usage[] = []
    await m.text('count me', { onUsage: (u) => usage.push(u) })
    expect(usage).toEqual([
      { calls: 1, promptTokens: fake?.requests[0]?.promptTokens, completionTokens: 3, model: 'fake-model' },
    ])
  })
})

describe('sampling with single requests', () => {
  it('a single request whose stream ends before its choice finished counts as failed, not as not needed', async () => {
    let i = 0
    const m = await model(() => {
      i++
      if (i === 1) return { text: 'a', ignoreN: true }
      return i === 2 ? { text: 'b' } : { chunks: [{ choices: [{ index: 0, content: 'cut sh' }] }] }
    })
    const got = await m.samples('q', 3)
    expect(got).toMatchObject({ texts: ['a', 'b'], failed: 1, notNeeded: 0 })
    expect(got.error).toMatchObject({ code: 'model_bad_response', transient: true })
  })
})
