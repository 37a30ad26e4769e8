import { describe, expect, it } from 'vitest'
import { RedisClock } from '../../src/bot/budgets/redis-clock.ts'

describe('RedisClock', () => {
  it('asks for a reading first, then reckons from the midpoint of the call that gave one', () => {
    const clock = new RedisClock()
    expect(clock.now(1_000)).toBe(-1)
    // Sent at 1,000, answered at 1,010: Redis said 5,000,005 at about 1,005.
    clock.read(5_000_005, 1_000, 1_010)
    expect(clock.now(1_010)).toBe(5_000_010)
    expect(clock.now(4_010)).toBe(5_003_010)
  })

  it('reads again after 10 s, and keeps no reading from a slow call', () => {
    const clock = new RedisClock()
    clock.read(5_000_000, 0, 2)
    expect(clock.now(10_001)).toBe(5_010_000)
    expect(clock.now(10_003)).toBe(-1)
    // A call that took 150 ms could be off by 75 ms: not a reading.
    const fresh = new RedisClock()
    fresh.read(5_000_000, 0, 150)
    expect(fresh.now(200)).toBe(-1)
    fresh.read(Number.NaN, 0, 1)
    expect(fresh.now(200)).toBe(-1)
  })
})
