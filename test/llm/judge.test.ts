import { afterEach, describe, expect, it } from 'vitest'
import { OpenAIModel, pickMostConsistent, readVerdict } from '../../src/llm/index.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../fakes/openai.ts'

let fake: FakeOpenAI | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

async function judge(reply: string | Handler) {
  fake = await startFakeOpenAI({ handler: typeof reply === 'string' ? () => ({ text: reply }) : reply })
  return new OpenAIModel({ apiKey: 'k', baseURL: fake.url, model: 'judge' })
}

describe('pickMostConsistent (Universal Self-Consistency)', () => {
  it('returns the candidate the judge names, having shown it every candidate and asked for JSON', async () => {
    const llm = await judge('{"response": 2}')
    const picked = await pickMostConsistent(llm, 'Best lunch?', ['soup', 'salad, with bread', 'pizza'])
    expect(picked).toEqual({ index: 1, answer: 'salad, with bread', judged: true })
    const request = fake?.requests[0]
    for (const c of ['Response 1:\nsoup', 'Response 2:\nsalad, with bread', 'Response 3:\npizza'])
      expect(request?.prompt).toContain(c)
    expect(request?.body.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'most_consistent', strict: true },
    })
  })

  it('asks in plain text, once and for good, when the server refuses response_format', async () => {
    const llm = await judge((body) =>
      body.response_format === undefined
        ? { text: 'The most consistent response is Response 3.' }
        : { status: 400 },
    )
    expect(await pickMostConsistent(llm, 'q', ['a', 'b', 'c'])).toMatchObject({ index: 2, judged: true })
    expect(await pickMostConsistent(llm, 'q', ['a', 'b', 'c'])).toMatchObject({ index: 2, judged: true })
    expect(fake?.requests.map((r) => r.body.response_format === undefined)).toEqual([false, true, true])
  })

  it('says it could not judge when the reply is unreadable or out of range', async () => {
    for (const reply of ['I cannot decide', '{"response": 7}', 'Of the 5 responses, two agree.']) {
      expect(await pickMostConsistent(await judge(reply), 'q', ['a', 'b'])).toEqual({
        index: 0,
        answer: 'a',
        judged: false,
      })
      await fake?.close()
    }
  })

  it('needs no judge call for a single candidate', async () => {
    const llm = await judge('1')
    expect(await pickMostConsistent(llm, 'q', ['only'])).toEqual({ index: 0, answer: 'only', judged: false })
    expect(fake?.requests).toHaveLength(0)
  })
})

describe('readVerdict', () => {
  it.each([
    ['{"response": 2}', 2],
    ['```json\n{ "response": 3 }\n```', 3],
    ['Of the 5 responses, Response 2 is the most consistent.', 2],
    ['Of the 5 responses, 3 agree. {"response": 4}', 4],
    ['The most consistent response is Response 1', 1],
    ['The most consistent response is **Response 2**.', 2],
    ['2', 2],
    ['Response 4.', 4],
  ])('reads %j as %d', (reply, n) => {
    expect(readVerdict(reply)).toBe(n)
  })

  it.each([
    'Of the 5 responses, most say Paris.',
    'Responses 1 and 3 agree; 5 in all.',
    '{"response": 1} or maybe {"response": 2}',
    'The most consistent response is Response 1. Response 2 is the most consistent.',
    '{"response": "two"}',
    '5 responses',
    '',
  ])('finds no verdict in %j', (reply) => {
    expect(readVerdict(reply)).toBeUndefined()
  })
})
