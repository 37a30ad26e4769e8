import { describe, expect, it } from 'vitest'
import { answerKind, extractAnswer, INVALID, normalizeAnswer } from '../../src/llm/index.ts'
import { INVALID_REPLIES, MUST_MERGE, MUST_STAY_APART } from './normalize-cases.ts'

describe('normalizeAnswer', () => {
  describe.each(MUST_MERGE.map((group) => [group[0] as string, group]))(
    'merges the forms of %j',
    (_, group) => {
      it.each(group.slice(1))('%j', (form) => {
        expect(normalizeAnswer(form)).toBe(normalizeAnswer(group[0] as string))
        expect(normalizeAnswer(form)).not.toBe(INVALID)
      })
    },
  )

  it.each(MUST_STAY_APART)('keeps %j apart from %j', (a, b) => {
    expect(normalizeAnswer(a)).not.toBe(normalizeAnswer(b))
  })

  it.each(INVALID_REPLIES)('puts %j in the invalid bucket', (reply) => {
    expect(normalizeAnswer(reply)).toBe(INVALID)
  })

  it('no two groups of the merge table share a key', () => {
    const heads = [...new Set(MUST_MERGE.map((group) => group[0] as string))]
    expect(new Set(heads.map(normalizeAnswer)).size).toBe(heads.length)
  })
})

describe('extractAnswer', () => {
  it('shows the last "Answer:" line of a worked answer, without decoration', () => {
    expect(extractAnswer('First, 2 + 2 = 4.\nAnswer: 4\nThen we check.\n**Answer:** *5*')).toBe('5')
    expect(extractAnswer('Sure.\n**Lyon**')).toBe('Lyon')
    expect(extractAnswer('_(demo)_ Yes')).toBe('Yes')
  })
})

describe('answerKind', () => {
  it('tells closed forms, which are counted exactly, from free text', () => {
    expect(
      ['Yes', 'B', '1,000', '5 km', 'March 1, 2024', 'Paris', '...'].map((a) =>
        answerKind(normalizeAnswer(a)),
      ),
    ).toEqual(['boolean', 'choice', 'number', 'number', 'date', 'text', 'invalid'])
  })
})
