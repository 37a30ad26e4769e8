import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { all, defineFlow, type FlowEvent, runFlow } from '../../src/engine/index.ts'
import { collect, delay } from './helpers.ts'

describe('event causality', () => {
  it('gives every event an id and the id of the event that caused it; run.started carries the input', async () => {
    const flow = defineFlow({
      name: 'causal',
      description: '',
      input: z.object({ topic: z.string() }),
      build(f, { topic }) {
        const a = f.start('a', ({ signal }) => delay(5, topic, signal))
        const b = f.start('b', ({ signal }) => delay(15, 'b', signal))
        return { final: f.listen(all(a, b), 'join', (xs) => xs.join('+')) }
      },
    })
    const events = await collect(runFlow(flow, { topic: 'lunch' }))
    const ids = events.map((e) => e.id)
    expect(new Set(ids).size).toBe(events.length)
    const byId = new Map(events.map((e) => [e.id, e]))
    const started = events[0] as Extract<FlowEvent, { type: 'run.started' }>
    expect(started.input).toEqual({ topic: 'lunch' })
    const startOf = (step: string) =>
      events.find((e) => e.type === 'step.started' && e.step === step) as FlowEvent
    expect(startOf('a').causeId).toBe(started.id)
    // The join was started by the completion that settled its last input, b.
    const cause = byId.get(startOf('join').causeId as number)
    expect(cause).toMatchObject({ type: 'step.completed', step: 'b' })
    const joinDone = events.find((e) => e.type === 'step.completed' && e.step === 'join') as FlowEvent
    expect(joinDone.causeId).toBe(startOf('join').id)
  })
})
