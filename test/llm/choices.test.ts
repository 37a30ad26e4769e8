import { afterEach, describe, expect, it } from 'vitest'
import { hash, mulberry32, OpenAIModel } from '../../src/llm/index.ts'
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
