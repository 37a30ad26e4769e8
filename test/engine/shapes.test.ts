import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { all, any, defineFlow, FlowDefinitionError, runFlow, sleep } from '../../src/engine/index.ts'

/** N angles from the input, each closing over it, as /brainstorm's are. */
const fanOut = defineFlow({
  name: 'fan-out',
  description: '',
  input: z.object({ topic: z.string(), n: z.number().int().min(1) }),
  example: { topic: 'x', n: 2 },
  build(f, { topic, n }) {
    const angles = Array.from({ length: n }, (_, i) => f.start(`angle-${i}`, () => `${topic} ${i}`))
    const first = f.listen(any(angles), 'first', (w) => w.value)
    return { first, final: f.listen(all(angles), 'join', (xs) => xs.join(' | ')) }
  },
})

describe('a graph checked once per shape', () => {
  it('builds each run from its own input: the steps close over it, the fan-out follows it', async () => {
    const runs = [
      runFlow(fanOut, { topic: 'lunch', n: 2 }),
      runFlow(fanOut, { topic: 'names', n: 4 }),
      runFlow(fanOut, { topic: 'tea', n: 2 }),
    ]
    const results = await Promise.all(runs.map((r) => r.result))
    expect(results.map((r) => r.output)).toEqual([
      'lunch 0 | lunch 1',
      'names 0 | names 1 | names 2 | names 3',
      'tea 0 | tea 1',
    ])
    expect(results.map((r) => r.steps.map((s) => s.name))).toEqual([
      ['angle-0', 'angle-1', 'first', 'join'],
      ['angle-0', 'angle-1', 'angle-2', 'angle-3', 'first', 'join'],
      ['angle-0', 'angle-1', 'first', 'join'],
    ])
  })

  it('checks a shape it has not seen, even after runs of another shape passed', async () => {
    const flow = defineFlow({
      name: 'sometimes-bad',
      description: '',
      input: z.object({ bad: z.boolean() }),
      example: { bad: false },
      build(f, { bad }) {
        const a = f.start('a', () => 1)
        if (bad) f.listen(f.ref('nowhere'), 'b', () => 2)
        return { final: f.listen(a, 'c', (x) => x + 1) }
      },
    })
    expect((await runFlow(flow, { bad: false }).result).output).toBe(2)
    expect(() => runFlow(flow, { bad: true })).toThrow(FlowDefinitionError)
    expect(() => runFlow(flow, { bad: true })).toThrow(/step 'b' listens to 'nowhere'/)
    expect((await runFlow(flow, { bad: false }).result).output).toBe(2)
  })

  it('tells shapes apart by names, labels, outputs and join options, not only by size', async () => {
    const flow = defineFlow({
      name: 'variants',
      description: '',
      input: z.object({ v: z.number() }),
      example: { v: 0 },
      build(f, { v }) {
        const a = f.start(v === 1 ? 'x' : 'a', () => 'a')
        const b = f.start('b', async ({ signal }) => {
          await sleep(5, signal)
          throw new Error('b failed')
        })
        // Listened to by nothing: only its own name tells the shapes apart.
        f.start(v === 3 ? 'side-x' : 'side', () => 0)
        const join =
          v === 2
            ? f.listen(all([a, b], { partial: true }), 'join', (p): unknown => p)
            : f.listen(all(a, b), 'join', (p): unknown => p)
        return { final: join }
      },
    })
    const strict = await runFlow(flow, { v: 0 }).result
    expect(strict.status).toBe('failed')
    const renamed = await runFlow(flow, { v: 1 }).result
    expect(renamed.steps[0]?.name).toBe('x')
    const started: string[][] = []
    await runFlow(
      flow,
      { v: 3 },
      { onEvent: (e) => void (e.type === 'run.started' && started.push(e.steps.map((s) => s.name))) },
    ).result
    expect(started).toEqual([['a', 'b', 'side-x', 'join']])
    const partial = await runFlow(flow, { v: 2 }).result
    expect(partial.status).toBe('completed')
    expect(partial.output).toMatchObject({ values: ['a'], failures: [{ step: 'b' }] })
  })

  it('keeps each run’s join state its own when runs of one shape overlap', async () => {
    const flow = defineFlow({
      name: 'overlap',
      description: '',
      input: z.object({ ms: z.array(z.number()) }),
      example: { ms: [1, 2] },
      build(f, { ms }) {
        const steps = ms.map((m, i) => f.start(`s${i}`, ({ signal }) => sleep(m, signal).then(() => m)))
        return { final: f.listen(all(steps), 'sum', (xs) => xs.reduce((s, x) => s + x, 0)) }
      },
    })
    const results = await Promise.all(
      [
        [10, 1],
        [1, 10],
        [5, 5],
      ].map((ms) => runFlow(flow, { ms }).result),
    )
    expect(results.map((r) => r.output)).toEqual([11, 11, 10])
  })
})
