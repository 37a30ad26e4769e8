import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { all, defineFlow, runFlow } from '../../src/engine/index.ts'
import { delay } from './helpers.ts'

const none = z.object({})

/** a answers at once, b and c take 10 s; an extra step after a would start later; final joins a, b, c. */
function fanOut(started: string[]) {
  return defineFlow({
    name: 'fan',
    description: '',
    input: none,
    build(f) {
      const a = f.start('a', () => delay(1, 'A'))
      const b = f.start('b', ({ signal }) => delay(10_000, 'B', signal))
      const c = f.start('c', ({ signal }) => delay(10_000, 'C', signal))
      f.listen(b, 'after-b', () => {
        started.push('after-b')
        return 'never'
      })
      const final = f.listen(all([a, b, c], { partial: true }), 'join', ({ values, failures }) => {
        started.push('join')
        return `${values.join('+')} (${failures.length} cut)`
      })
      return { final }
    },
  })
}

describe('curtail', () => {
  it('cancels the in-flight branches and the final step joins what finished', async () => {
    const started: string[] = []
    const handle = runFlow(fanOut(started), {})
    await delay(30, null)
    handle.curtail('the token budget was reached')
    const result = await handle.result
    expect(result.status).toBe('completed')
    expect(result.output).toBe('A (2 cut)')
    expect(result.steps.find((s) => s.name === 'b')).toMatchObject({
      status: 'cancelled',
      cancelReason: 'the token budget was reached',
    })
    expect(result.durationMs).toBeLessThan(5_000)
    // The listener of a cancelled branch does not run; the final step does.
    expect(started).toEqual(['join'])
  })

  it('lets a final step that is already running finish', async () => {
    const flow = defineFlow({
      name: 'slow-final',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', () => 'A')
        return { final: f.listen(a, 'final', async (v) => `${await delay(40, v)}!`) }
      },
    })
    const handle = runFlow(flow, {})
    await delay(10, null)
    handle.curtail('budget')
    expect((await handle.result).output).toBe('A!')
  })
})
