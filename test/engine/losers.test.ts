import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { any, defineFlow, runFlow } from '../../src/engine/index.ts'
import { delay } from './helpers.ts'

const none = z.object({})

function race(afterFinal: 'cancel' | 'finish' | undefined, effects: string[]) {
  return defineFlow({
    name: 'race',
    description: '',
    input: none,
    ...(afterFinal === undefined ? {} : { afterFinal }),
    build(f) {
      const fast = f.start('fast', ({ signal }) => delay(5, 'fast', signal))
      const slow = f.start('slow', async ({ signal }) => {
        await delay(60, null, signal)
        effects.push('slow wrote its row')
        return 'slow'
      })
      // No cancelRest: the losers' fate is decided by afterFinal alone.
      return { final: f.listen(any(fast, slow), 'winner', (w) => w.value) }
    },
  })
}

describe('steps still running when final settles', () => {
  it('are cancelled by default, saying why, even when the final any does not ask for it', async () => {
    const effects: string[] = []
    const result = await runFlow(race(undefined, effects), {}).result
    expect(result.output).toBe('fast')
    expect(result.steps.find((s) => s.name === 'slow')).toMatchObject({
      status: 'cancelled',
      cancelReason: 'the final step settled',
    })
    expect(effects).toEqual([])
  })

  it("finish with afterFinal: 'finish', so their side effects are not lost", async () => {
    const effects: string[] = []
    const result = await runFlow(race('finish', effects), {}).result
    expect(result.output).toBe('fast')
    expect(result.steps.find((s) => s.name === 'slow')?.status).toBe('completed')
    expect(effects).toEqual(['slow wrote its row'])
  })
})
