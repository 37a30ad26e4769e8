import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../src/bot/index.ts'

describe('limit and budget configuration', () => {
  it('reads N/window limits and token budgets', () => {
    const c = loadConfig({
      CHORUS_USER_LIMIT: '10/1h',
      CHORUS_CHANNEL_LIMIT: '5 / 10m',
      CHORUS_DAILY_TOKEN_BUDGET: '2000',
    })
    expect(c.CHORUS_USER_LIMIT).toEqual({ limit: 10, windowMs: 3_600_000, text: '10/1h' })
    expect(c.CHORUS_CHANNEL_LIMIT).toMatchObject({ limit: 5, windowMs: 600_000 })
    expect(c.CHORUS_DAILY_TOKEN_BUDGET).toBe(2000)
    expect(c.CHORUS_RUN_TOKEN_BUDGET).toBeUndefined()
    expect(loadConfig({ CHORUS_USER_LIMIT: '' }).CHORUS_USER_LIMIT).toBeUndefined()
  })

  it.each(['10', '10/h/1', '0/1h', '10/0m', '10/8d', 'ten/1h'])(
    'refuses the limit %s with an example',
    (bad) => {
      expect(() => loadConfig({ CHORUS_USER_LIMIT: bad })).toThrow(
        /CHORUS_USER_LIMIT must be "N\/window".*e\.g\. 10\/1h/,
      )
    },
  )

  it('refuses a budget that is not a whole number of tokens', () => {
    expect(() => loadConfig({ CHORUS_RUN_TOKEN_BUDGET: '1.5k' })).toThrow(
      /CHORUS_RUN_TOKEN_BUDGET must be a whole number/,
    )
  })

  it('keys per-flow models by flow and by judge step', () => {
    const c = loadConfig({
      CHORUS_MODEL: 'a',
      CHORUS_MODEL_VOTE: 'b',
      CHORUS_MODEL_BRAINSTORM_JUDGE: 'c',
      CHORUS_MODEL_REVIEW: ' ',
    })
    expect(c.CHORUS_MODELS).toEqual({ vote: 'b', 'brainstorm.judge': 'c' })
  })
})
