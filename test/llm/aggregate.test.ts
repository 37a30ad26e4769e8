import { describe, expect, it } from 'vitest'
import { dedupeIdeas, leaderDecided, majority, normalizeAnswer } from '../../src/llm/index.ts'

describe('normalizeAnswer', () => {
  it('folds surface forms of one answer together', () => {
    for (const form of ['B', '(B)', 'b)', 'The answer is B.', '**B**', ' b ', 'Answer: B']) {
      expect(normalizeAnswer(form)).toBe('b')
    }
    expect(normalizeAnswer('Yes.')).toBe(normalizeAnswer('yes'))
    expect(normalizeAnswer('_(demo)_ No')).toBe('no')
  })
})

describe('majority', () => {
  it('counts normalised answers and breaks ties by first appearance', () => {
    expect(majority(['Yes', 'no', 'YES.', 'No', 'maybe'])).toMatchObject({
      answer: 'Yes',
      count: 2,
      total: 5,
      share: 0.4,
    })
    expect(majority(['a', 'b', 'b', 'a']).answer).toBe('a')
    expect(majority([]).count).toBe(0)
  })

  // Exhaustive enumeration (notes/llm-aggregation.md §6.2): every binary answer pattern weighted by
  // its probability; majority accuracy must equal the binomial formula exactly.
  it('matches the binomial majority bound exactly for k = 1, 3, 5, 9 at p = 0.6', () => {
    const choose = (n: number, r: number): number => (r === 0 ? 1 : (choose(n, r - 1) * (n - r + 1)) / r)
    const binomial = (k: number): number => {
      let p = 0
      for (let j = Math.ceil(k / 2); j <= k; j++) p += choose(k, j) * 0.6 ** j * 0.4 ** (k - j)
      return p
    }
    // The note's published values, to 6 places.
    const published: Record<number, number> = { 1: 0.6, 3: 0.648, 5: 0.68256, 9: 0.733432 }
    for (const k of [1, 3, 5, 9]) {
      expect(Math.abs(binomial(k) - (published[k] as number))).toBeLessThan(1e-6)
      let accuracy = 0
      for (let pattern = 0; pattern < 2 ** k; pattern++) {
        const answers = Array.from({ length: k }, (_, i) => ((pattern >> i) & 1 ? 'gold' : 'wrong'))
        const right = answers.filter((a) => a === 'gold').length
        const weight = 0.6 ** right * 0.4 ** (k - right)
        if (majority(answers).answer === 'gold') accuracy += weight
      }
      expect(Math.abs(accuracy - binomial(k))).toBeLessThan(1e-9)
    }
  })
})

describe('leaderDecided (exact early stop)', () => {
  it('never stops before the winner is certain', () => {
    // Every order of every binary pattern of k = 7: when it says decided, the final winner is the current leader.
    const k = 7
    for (let pattern = 0; pattern < 2 ** k; pattern++) {
      const votes = Array.from({ length: k }, (_, i) => (pattern >> i) & 1)
      const final = majority(votes.map(String)).answer
      let zeros = 0
      let ones = 0
      for (let seen = 0; seen < k; seen++) {
        if (votes[seen] === 1) ones++
        else zeros++
        if (leaderDecided([zeros, ones], k - seen - 1)) {
          const leader = ones > zeros ? '1' : '0'
          expect(leader).toBe(final)
          break
        }
      }
    }
    expect(leaderDecided([3, 0], 2)).toBe(true)
    expect(leaderDecided([2, 1], 2)).toBe(false)
  })
})

describe('dedupeIdeas', () => {
  it('merges paraphrases across lists and ranks by how many lists proposed them', () => {
    const ideas = dedupeIdeas([
      '- **Pulse**: a live dashboard of daily metrics\n- **Atlas**: map every metric owner',
      '1. Pulse: live dashboard of the daily metrics\n2. A weekly digest email',
      'Ideas:\n- weekly digest email for managers',
    ])
    expect(ideas[0]).toMatchObject({ count: 2 })
    expect(ideas[0]?.text).toContain('Pulse')
    expect(ideas.map((i) => i.count)).toEqual([2, 2, 1].sort((a, b) => b - a).slice(0, ideas.length))
    expect(ideas.some((i) => i.text === 'Ideas:')).toBe(false)
  })
})
