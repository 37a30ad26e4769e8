import { describe, expect, it } from 'vitest'
import { DemoModel, ModelError } from '../../src/llm/index.ts'

const fast = { latency: { minMs: 1, maxMs: 5 } }

describe('DemoModel', () => {
  it('is deterministic for a seed and marks its text as demo', async () => {
    const a = new DemoModel({ seed: 7, ...fast })
    const b = new DemoModel({ seed: 7, ...fast })
    const prompt = 'Topic: lunch\nAngle: Contrarian. Take the opposite.'
    const ra = [await a.text(prompt), await a.text(prompt)]
    const rb = [await b.text(prompt), await b.text(prompt)]
    expect(ra).toEqual(rb)
    expect(ra[0]).toMatch(/^_\(demo\)_ /)
    const other = new DemoModel({ seed: 8, ...fast })
    const differs = await Promise.all(Array.from({ length: 5 }, () => other.text(prompt)))
    expect(differs.some((t) => t !== ra[0])).toBe(true)
  })

  it('writes its answer a few words at a time, the first well before the end, the last the whole answer', async () => {
    const m = new DemoModel({ latency: { minMs: 300, maxMs: 300 } })
    const seen: Array<{ text: string; at: number }> = []
    const t0 = performance.now()
    const text = await m.text('Topic: lunch\nAngle: Contrarian. Take the opposite.', {
      onText: (t) => void seen.push({ text: t, at: performance.now() - t0 }),
    })
    expect(seen.length).toBeGreaterThan(3)
    expect(seen.at(-1)?.text).toBe(text)
    expect(seen[0]?.at).toBeLessThan(200)
    expect(seen[0]?.text.length).toBeLessThan(text.length)
    for (let i = 1; i < seen.length; i++)
      expect(seen[i]?.text.startsWith(seen[i - 1]?.text as string)).toBe(true)
  })

  it('answers a repeated question mostly the same way', async () => {
    const m = new DemoModel({ seed: 3, ...fast })
    const answers = await m.samples('Tea or coffee?', 20, { system: 'Answer with the answer only.' })
    const counts = new Map<string, number>()
    for (const a of answers.texts) counts.set(a, (counts.get(a) ?? 0) + 1)
    expect(Math.max(...counts.values())).toBeGreaterThanOrEqual(8)
  })

  it('spreads its latency and stops at once when aborted', async () => {
    const m = new DemoModel({ latency: { minMs: 200, maxMs: 2_000 } })
    const controller = new AbortController()
    const t0 = performance.now()
    const call = m.text('x', { signal: controller.signal })
    controller.abort()
    await expect(call).rejects.toBeInstanceOf(ModelError)
    expect(performance.now() - t0).toBeLessThan(100)
  })
})
