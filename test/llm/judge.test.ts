import { afterEach, describe, expect, it } from 'vitest'
import { OpenAIModel, pickMostConsistent } from '../../src/llm/index.ts'
import { type FakeOpenAI, startFakeOpenAI } from '../fakes/openai.ts'

let fake: FakeOpenAI | undefined
afterEach(async () => {
  await fake?.close()
})

async function judge(reply: string) {
  fake = await startFakeOpenAI({ handler: () => ({ text: reply }) })
  return new OpenAIModel({ apiKey: 'k', baseURL: fake.url, model: 'judge' })
}

describe('pickMostConsistent (Universal Self-Consistency)', () => {
  it('returns the candidate the judge names, having shown it every candidate', async () => {
    const llm = await judge('Response 2 is the most consistent.')
    const picked = await pickMostConsistent(llm, 'Best lunch?', ['soup', 'salad, with bread', 'pizza'])
    expect(picked).toEqual({ index: 1, answer: 'salad, with bread', judged: true })
    const prompt = fake?.requests[0]?.prompt ?? ''
    for (const c of ['Response 1:\nsoup', 'Response 2:\nsalad, with bread', 'Response 3:\npizza'])
      expect(prompt).toContain(c)
  })

  it('falls back to the first candidate when the judge answers nonsense or out of range', async () => {
    expect(await pickMostConsistent(await judge('I cannot decide'), 'q', ['a', 'b'])).toEqual({
      index: 0,
      answer: 'a',
      judged: false,
    })
    await fake?.close()
    expect(await pickMostConsistent(await judge('7'), 'q', ['a', 'b'])).toEqual({
      index: 0,
      answer: 'a',
      judged: false,
    })
  })

  it('needs no judge call for a single candidate', async () => {
    const llm = await judge('1')
    expect(await pickMostConsistent(llm, 'q', ['only'])).toEqual({ index: 0, answer: 'only', judged: false })
    expect(fake?.requests).toHaveLength(0)
  })
})
