import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { any, defineFlow, FinalNotReachedError, runFlow } from '../../src/engine/index.ts'
import { collect } from './helpers.ts'

const none = z.object({})

/** Follows `cause` to the error that started it all. */
function rootOf(error: unknown): unknown {
  let e = error
  while (e instanceof Error && e.cause !== undefined) e = e.cause
  return e
}

describe('root causes', () => {
  it('a router that throws fails the listeners of its labels, and the run error carries the throw', async () => {
    const flow = defineFlow({
      name: 'router-throws',
      description: '',
      input: none,
      build(f) {
        const begin = f.start('begin', () => 'b')
        const r = f.router(
          begin,
          'r',
          (): 'x' => {
            throw new Error('boom')
          },
          { labels: ['x'] },
        )
        return { final: f.listen(r.label('x'), 'hx', () => 'hx') }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.status).toBe('failed')
    expect(rootOf(result.error)).toMatchObject({ message: 'boom' })
    expect(result.steps.find((s) => s.name === 'hx')?.status).toBe('failed')
  })

  it('a looping router that hits maxCalls fails the run with the call limit as its cause', async () => {
    const flow = defineFlow({
      name: 'runaway',
      description: '',
      input: none,
      build(f) {
        const seed = f.start('seed', () => 0)
        const check = f.router(any(seed, f.ref<number>('bump')), 'check', () => 'again' as 'again' | 'done', {
          labels: ['again', 'done'],
          maxCalls: 4,
        })
        f.listen(check.label('again'), 'bump', (w) => w.value + 1)
        return { final: f.listen(check.label('done'), 'finish', (w) => w.value) }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.status).toBe('failed')
    expect(rootOf(result.error)).toMatchObject({ code: 'call_limit' })
  })

  it('a final that can no longer run names the failure that made it unreachable', async () => {
    const flow = defineFlow({
      name: 'unreachable',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', () => 'a')
        const b = f.start('b', async (): Promise<string> => {
          throw new Error('b broke')
        })
        const r = f.router(a, 'r', () => 'no' as 'yes' | 'no', { labels: ['yes', 'no'] })
        return { final: f.listen(any(r.label('yes'), b), 'out', () => 'out') }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.error).toBeInstanceOf(FinalNotReachedError)
    expect((result.error as Error).cause).toMatchObject({ message: 'b broke' })
    expect((result.error as Error).message).toContain("'b' failed")
  })
})

describe('failures off the final path', () => {
  it('a completed run lists a side branch that failed, in the result and the run.completed event', async () => {
    const flow = defineFlow({
      name: 'side',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', () => 'a')
        f.listen(a, 'side', async () => {
          throw new Error('side broke')
        })
        return { final: f.listen(a, 'main', (x) => `${x}!`) }
      },
    })
    const events = await collect(runFlow(flow, {}))
    const done = events.at(-1)
    if (done?.type !== 'run.completed') throw new Error('no run.completed')
    expect(done.result.status).toBe('completed')
    expect(done.result.failures).toEqual([
      { step: 'side', call: 1, error: expect.objectContaining({ message: 'side broke' }) },
    ])
  })
})
