import { describe, expect, it } from 'vitest'
import { loadConfig, usageText } from '../../src/bot/index.ts'
import { RunMeter } from '../../src/bot/runs/meter.ts'
import { costOf, DEFAULT_PRICES } from '../../src/llm/index.ts'

describe('the usage line and its cost estimate', () => {
  it('prices prompt and completion tokens apart, per model', () => {
    expect(costOf(DEFAULT_PRICES, 'gpt-4o-mini', 1_000_000, 0)).toBeCloseTo(0.15)
    expect(costOf(DEFAULT_PRICES, 'gpt-4o-mini', 0, 1_000_000)).toBeCloseTo(0.6)
    expect(costOf(DEFAULT_PRICES, 'llama3', 10, 10)).toBeUndefined()
  })

  it('reads CHORUS_PRICES, which adds models and overrides the table, and refuses a malformed entry clearly', () => {
    const config = loadConfig({ CHORUS_PRICES: 'llama3=0/0, gpt-4o-mini=1/2' })
    expect(config.CHORUS_PRICES).toEqual({
      llama3: { input: 0, output: 0 },
      'gpt-4o-mini': { input: 1, output: 2 },
    })
    expect(() => loadConfig({ CHORUS_PRICES: 'gpt-4o-mini=cheap' })).toThrow(/model=input\/output/)
  })

  it('shows calls, tokens in and out, and the estimate; no estimate when any model has no price', () => {
    const meter = (models: Record<string, string>) =>
      new RunMeter({
        modelOf: (step) => models[step] ?? 'gpt-4o-mini',
        budget: undefined,
        onBudget: () => {},
        spend: () => {},
        prices: DEFAULT_PRICES,
      })
    const priced = meter({})
    priced.add('a', { promptTokens: 1_000, completionTokens: 500, calls: 1 })
    priced.add('b', { promptTokens: 1_000, completionTokens: 500, calls: 1 })
    const line = usageText({ usage: priced.line() } as Parameters<typeof usageText>[0])
    // 2,000 × 0.15 + 1,000 × 0.6 per million = $0.0009
    expect(line).toBe('gpt-4o-mini · 2 calls · 3,000 tokens (2,000 in, 1,000 out) · ≈ $0.0009')
    const mixed = meter({ judge: 'llama3' })
    mixed.add('a', { promptTokens: 10, completionTokens: 5, calls: 1 })
    mixed.add('judge', { promptTokens: 10, completionTokens: 5, calls: 1 })
    expect(usageText({ usage: mixed.line() } as Parameters<typeof usageText>[0])).toBe(
      'gpt-4o-mini, llama3 · 2 calls · 30 tokens (20 in, 10 out)',
    )
  })
})
