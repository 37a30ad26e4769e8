import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  all,
  any,
  defineFlow,
  FairLimiter,
  FlowDefinitionError,
  sleep,
  toMermaid,
} from '../../src/engine/index.ts'

const none = z.object({})
const define = (build: Parameters<typeof defineFlow>[0]['build']) =>
  defineFlow({ name: 'bad', description: '', input: none, example: {}, build })

describe('build-time validation', () => {
  it('rejects duplicate names, naming the flow and the step', () => {
    expect(() =>
      define((f) => {
        f.start('a', () => 1)
        return { final: f.start('a', () => 2) }
      }),
    ).toThrow(/flow 'bad': the name 'a' of step 'a' is already used by step 'a'/)
  })

  it('rejects a step named like a router label', () => {
    expect(() =>
      define((f) => {
        const a = f.start('a', () => 1)
        f.router(a, 'r', () => 'ok' as const, { labels: ['ok'] })
        return { final: f.start('ok', () => 2) }
      }),
    ).toThrow(FlowDefinitionError)
  })

  it('rejects dangling labels and references', () => {
    expect(() =>
      define((f) => {
        f.start('a', () => 1)
        return { final: f.listen(f.label('nowhere'), 'b', () => 2) }
      }),
    ).toThrow(/step 'b' listens to 'nowhere', which no step or router label defines/)
    expect(() =>
      define((f) => {
        const a = f.start('a', () => 1)
        const r = f.router(a, 'r', () => 'x' as const, { labels: ['x'] })
        return { final: f.listen(r.label('y' as 'x'), 'b', () => 2) }
      }),
    ).toThrow(/router 'r' has no label 'y'/)
  })

  it('rejects self-listening', () => {
    expect(() =>
      define((f) => {
        const a = f.start('a', () => 1)
        return { final: f.listen(any(a, f.ref('b')), 'b', () => 2) }
      }),
    ).toThrow(/step 'b' listens to itself/)
  })

  it('rejects unreachable joins', () => {
    expect(() =>
      define((f) => {
        const a = f.start('a', () => 1)
        const r = f.router(a, 'r', () => 'x' as const, { labels: ['x', 'y'] })
        return { final: f.listen(all(r.label('x'), r.label('y')), 'join', () => 2) }
      }),
    ).toThrow(/step 'join' can never run: it waits for labels 'x' and 'y' of router 'r'/)
    expect(() =>
      define((f) => {
        f.start('a', () => 1)
        const loopA = f.listen(f.ref('loopB'), 'loopA', () => 1)
        f.listen(loopA, 'loopB', () => 1)
        return { final: loopA }
      }),
    ).toThrow(/step 'loopA' can never run/)
  })

  it('requires a final step and a start step', () => {
    expect(() => define(() => ({}) as never)).toThrow(/has no start step/)
    expect(() =>
      define((f) => {
        f.start('a', () => 1)
        return {} as never
      }),
    ).toThrow(/must return \{ final \}/)
  })
})

describe('toMermaid', () => {
  it('draws starts, joins, routers and labels', () => {
    const flow = defineFlow({
      name: 'pic',
      description: '',
      input: none,
      example: {},
      build(f) {
        const a = f.start('a', () => 1)
        const b = f.start('b', () => 2)
        const first = f.listen(any(a, b), 'first', (w) => w.value)
        const r = f.router(all([a, b], { partial: true }), 'check', () => 'ok' as const, { labels: ['ok'] })
        return { first, final: f.listen(r.label('ok'), 'done', () => 3) }
      },
    })
    const text = toMermaid(flow)
    expect(text).toContain('flowchart TD')
    expect(text).toContain('s0(["a"])')
    expect(text).toContain('((any))')
    expect(text).toContain('((all partial))')
    expect(text).toContain('s3{"check"}')
    expect(text).toContain('s3 -- ok --> s4')
    expect(text).toContain('class s2,s4 output')
  })
})

describe('FairLimiter', () => {
  it('never runs more than its concurrency', async () => {
    const limiter = new FairLimiter(3)
    let active = 0
    let peak = 0
    const job = async () => {
      active++
      peak = Math.max(peak, active)
      await sleep(5)
      active--
    }
    await Promise.all(Array.from({ length: 20 }, (_, i) => limiter.run(`k${i % 4}`, job)))
    expect(peak).toBe(3)
  })

  it('serves runs round-robin so a big fan-out cannot starve a small run', async () => {
    const limiter = new FairLimiter(1)
    const order: string[] = []
    const job = (name: string) => async () => {
      order.push(name)
      await sleep(1)
    }
    const big = Array.from({ length: 10 }, (_, i) => limiter.run('big', job(`big${i}`)))
    const small = limiter.run('small', job('small'))
    await Promise.all([...big, small])
    expect(order.indexOf('small')).toBeLessThanOrEqual(2)
  })

  it('removes a waiting job whose signal aborts', async () => {
    const limiter = new FairLimiter(1)
    const hold = limiter.run('a', () => sleep(30))
    const controller = new AbortController()
    let ran = false
    const waiting = limiter.run(
      'b',
      async () => {
        ran = true
      },
      controller.signal,
    )
    controller.abort(new Error('stop'))
    await expect(waiting).rejects.toThrow('stop')
    await hold
    expect(ran).toBe(false)
    expect(limiter.waiting).toBe(0)
  })
})

describe('validation without an example', () => {
  it('checks the graph for the input its schema defaults to', () => {
    expect(() =>
      defineFlow({
        name: 'no-example',
        description: '',
        input: z.object({ n: z.number().default(2) }),
        build(f) {
          f.start('a', () => 1)
          return { final: f.listen(f.ref('missing'), 'b', () => 2) }
        },
      }),
    ).toThrow(/step 'b' listens to 'missing'/)
  })
})
