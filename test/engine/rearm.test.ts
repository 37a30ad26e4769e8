import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { all, any, defineFlow, runFlow, sleep } from '../../src/engine/index.ts'

const none = z.object({})

describe('re-arming after a fire', () => {
  it('resets the nested all gates of an any that fired, so its listener runs once per cycle', async () => {
    let fired = 0
    const flow = defineFlow({
      name: 'nested-reset',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', () => 'a')
        const c = f.start('c', () => 'c')
        const j = f.listen(any(all(a, f.ref('x')), all(c, f.label('y'))), 'joined', () => ++fired)
        f.listen(all(a, c), 'x', () => 'x')
        f.router(j, 'emit_y', () => 'y' as const, { labels: ['y'] })
        // A long timer as final keeps the run alive while the cycle plays out.
        return { final: f.start('timer', ({ signal }) => sleep(20, signal)) }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.status).toBe('completed')
    expect(fired).toBe(1)
  })

  it.each([
    ['before', true],
    ['after', false],
  ])('an any declared %s a sibling started by the same completion fires once', async (_, eitherFirst) => {
    let fires = 0
    const flow = defineFlow({
      name: 'order',
      description: '',
      input: none,
      build(f) {
        const begin = f.start('begin', () => 'b')
        const either = (): void => void f.listen(any(begin, f.ref('next')), 'either', () => ++fires)
        if (eitherFirst) either()
        f.listen(begin, 'next', () => 'n')
        if (!eitherFirst) either()
        return { final: f.start('timer', ({ signal }) => sleep(20, signal)) }
      },
    })
    await runFlow(flow, {}).result
    expect(fires).toBe(1)
  })

  it('a router loop still re-arms its any for the step the loop starts', async () => {
    const flow = defineFlow({
      name: 'loop',
      description: '',
      input: none,
      build(f) {
        const seed = f.start('seed', () => 0)
        const check = f.router(
          any(seed, f.ref<number>('bump')),
          'check',
          (w) => (w.value >= 3 ? 'done' : 'again'),
          {
            labels: ['done', 'again'],
          },
        )
        f.listen(check.label('again'), 'bump', (w) => w.value + 1)
        return { final: f.listen(check.label('done'), 'finish', (w) => w.value) }
      },
    })
    expect((await runFlow(flow, {}).result).output).toBe(3)
  })
})
