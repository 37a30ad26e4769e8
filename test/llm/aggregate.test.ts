import { describe, expect, it } from 'vitest'
import { dedupeIdeas, leaderDecided, majority } from '../../src/llm/index.ts'

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

  it('counts unreadable answers as invalid, and never lets them win', () => {
    const t = majority(['...', '?', '**', 'Paris', ''])
    expect(t).toMatchObject({ answer: 'Paris', count: 1, total: 5, invalid: 4 })
    expect(t.tally).toEqual([{ answer: 'Paris', key: 'paris', count: 1 }])
    expect(majority(['...', '?'])).toMatchObject({ answer: '', count: 0, invalid: 2, tally: [] })
  })

  it('does not let a courtesy first line outvote the answers below it', () => {
    const t = majority(['Sure.\nLyon', 'Sure.\nNice', 'Sure.\nMarseille', 'Paris', 'paris.'])
    expect(t).toMatchObject({ answer: 'Paris', count: 2 })
  })

  // Exhaustive enumeration (notes/llm-aggregation.md §6.2): every binary answer pattern weighted by
  // its probability; majority accuracy must equal the binomial formula exactly.
  it('matches the binomial majority bound exactly for k = 1, 3, 5, 9 at p = 0.6', () => {
    // The note's published values (notes/llm-aggregation.md §6.1), to 6 places.
    const published: Record<number, number> = { 1: 0.6, 3: 0.648, 5: 0.68256, 9: 0.733432 }
    for (const k of [1, 3, 5, 9]) {
      let accuracy = 0
      for (let pattern = 0; pattern < 2 ** k; pattern++) {
        const answers = Array.from({ length: k }, (_, i) => ((pattern >> i) & 1 ? 'gold' : 'wrong'))
        const right = answers.filter((a) => a === 'gold').length
        const weight = 0.6 ** right * 0.4 ** (k - right)
        if (majority(answers).answer === 'gold') accuracy += weight
      }
      expect(Math.abs(accuracy - (published[k] as number))).toBeLessThan(1e-6)
    }
  })
})

describe('majority over four options', () => {
  // Wrong answers spread over three distractors; ties go to the first seen, which over all orders is
  // a uniform tie-break: accuracy must be the note's plurality values (§6.1: 0.712 at k = 3, 0.811 at k = 5).
  it('matches the exact plurality accuracy at p = 0.6', () => {
    const published: Record<number, number> = { 3: 0.712, 5: 0.811 }
    for (const k of [3, 5]) {
      let accuracy = 0
      for (let pattern = 0; pattern < 4 ** k; pattern++) {
        const answers = Array.from(
          { length: k },
          (_, i) => 'ABCD'[Math.floor(pattern / 4 ** i) % 4] as string,
        )
        const weight = answers.reduce((w, a) => w * (a === 'A' ? 0.6 : 0.4 / 3), 1)
        if (majority(answers).answer === 'A') accuracy += weight
      }
      expect(Math.abs(accuracy - (published[k] as number))).toBeLessThan(5e-4)
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
    expect(ideas.map((i) => [i.text, i.count])).toEqual([
      ['**Pulse**: a live dashboard of daily metrics', 2],
      ['A weekly digest email', 2],
      ['**Atlas**: map every metric owner', 1],
    ])
    expect(ideas.some((i) => i.text === 'Ideas:')).toBe(false)
  })
})
