import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { all, any, defineFlow, runFlow } from '../../src/engine/index.ts'
import { collect, delay } from './helpers.ts'

const none = z.object({})

function fanOut(calls: string[]) {
  return defineFlow({
    name: 'fan',
    description: '',
    input: none,
    build(f) {
      const steps = ['a', 'b', 'c'].map((name) =>
        f.start(name, async ({ signal }) => {
          calls.push(name)
          return delay(10, `${name}!`, signal)
        }),
      )
      const first = f.listen(any(steps), 'first', ({ value }) => value)
      const final = f.listen(all(steps), 'join', (xs) => xs.join(' '))
      return { first, final }
    },
  })
}

describe('resume', () => {
  it('settles journaled calls with their values and calls only the rest', async () => {
    const calls: string[] = []
    const run = runFlow(
      fanOut(calls),
      {},
      {
        resume: [
          { step: 'a', call: 1, value: 'A from the journal' },
          { step: 'c', call: 1, value: 'C from the journal' },
        ],
      },
    )
    const events = await collect(run)
    const result = await run.result
    expect(calls).toEqual(['b'])
    expect(result.output).toBe('A from the journal b! C from the journal')
    const completed = events.filter((e) => e.type === 'step.completed')
    expect(completed.map((e) => [e.step, e.resumed])).toContainEqual(['a', true])
    expect(completed.map((e) => [e.step, e.resumed])).toContainEqual(['b', false])
  })

  it('replays a listener call too, so a journaled final is not computed again', async () => {
    const calls: string[] = []
    const result = await runFlow(
      fanOut(calls),
      {},
      {
        resume: [
          { step: 'a', call: 1, value: 'x' },
          { step: 'b', call: 1, value: 'y' },
          { step: 'c', call: 1, value: 'z' },
          { step: 'join', call: 1, value: 'the journaled join' },
        ],
      },
    ).result
    expect(calls).toEqual([])
    expect(result.output).toBe('the journaled join')
  })

  it('keys journaled calls by call number, so a router cycle replays each call once', async () => {
    let bumps = 0
    const flow = defineFlow({
      name: 'loop',
      description: '',
      input: none,
      build(f) {
        const seed = f.start('seed', () => 0)
        const bump = f.ref<number>('bump')
        const check = f.router(any(seed, bump), 'check', (w) => (w.value >= 3 ? 'done' : 'again'), {
          labels: ['done', 'again'],
        })
        f.listen(check.label('again'), 'bump', (w) => {
          bumps++
          return w.value + 1
        })
        return { final: f.listen(check.label('done'), 'finish', (w) => w.value) }
      },
    })
    const journal = [
      { step: 'seed', call: 1, value: 0 },
      { step: 'check', call: 1, value: 'again' },
      { step: 'bump', call: 1, value: 1 },
    ]
    const run = runFlow(flow, {}, { resume: journal })
    const events = await collect(run)
    expect((await run.result).output).toBe(3)
    expect(bumps).toBe(2) // calls 2 and 3 of bump ran; call 1 came from the journal
    const checks = events.flatMap((e) => (e.type === 'step.started' && e.step === 'check' ? [e] : []))
    expect(checks.map((e) => [e.call, e.resumed])).toEqual([
      [1, true],
      [2, false],
      [3, false],
      [4, false],
    ])
  })
})
