import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  all,
  any,
  CancelledError,
  defineFlow,
  type PartialResult,
  quorum,
  runFlow,
  UpstreamFailedError,
} from '../../src/engine/index.ts'
import { collect, delay } from './helpers.ts'

const none = z.object({})

describe('start', () => {
  it('begins every start step at kickoff, concurrently', async () => {
    const started: number[] = []
    const flow = defineFlow({
      name: 'starts',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', async ({ signal }) => {
          started.push(performance.now())
          return delay(50, 'a', signal)
        })
        const b = f.start('b', async ({ signal }) => {
          started.push(performance.now())
          return delay(50, 'b', signal)
        })
        return { final: f.listen(all(a, b), 'done', (xs) => xs.join('+')) }
      },
    })
    const t0 = performance.now()
    const result = await runFlow(flow, {}).result
    expect(result.output).toBe('a+b')
    expect(Math.abs((started[0] as number) - (started[1] as number))).toBeLessThan(20)
    expect(performance.now() - t0).toBeLessThan(95) // parallel, not 100 ms sequential
  })
})

describe('any', () => {
  it('fires exactly once with the first success and says which step won', async () => {
    const fired: Array<{ step: string; value: string }> = []
    const flow = defineFlow({
      name: 'race',
      description: '',
      input: none,
      build(f) {
        const slow = f.start('slow', ({ signal }) => delay(60, 'slow', signal))
        const fast = f.start('fast', ({ signal }) => delay(10, 'fast', signal))
        const mid = f.start('mid', ({ signal }) => delay(30, 'mid', signal))
        const first = f.listen(any(slow, fast, mid), 'first', (w) => {
          fired.push(w)
          return w.value
        })
        return { first, final: f.listen(all(slow, fast, mid), 'final', (xs) => xs.join(',')) }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(fired).toEqual([{ step: 'fast', value: 'fast' }])
    expect(result.first).toBe('fast')
    expect(result.steps.find((s) => s.name === 'first')?.calls).toBe(1)
  })

  it('skips failures and fires with the first successful output', async () => {
    const flow = defineFlow({
      name: 'any-fail',
      description: '',
      input: none,
      build(f) {
        const broken = f.start('broken', async () => {
          throw new Error('boom')
        })
        const ok = f.start('ok', ({ signal }) => delay(20, 'fine', signal))
        return { final: f.listen(any(broken, ok), 'first', (w) => `${w.step}:${w.value}`) }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.status).toBe('completed')
    expect(result.output).toBe('ok:fine')
  })

  it('fails its listener only when every input failed', async () => {
    const flow = defineFlow({
      name: 'any-all-fail',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', async () => {
          throw new Error('a broke')
        })
        const b = f.start('b', async () => {
          throw new Error('b broke')
        })
        return { final: f.listen(any(a, b), 'first', (w) => w.value) }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.status).toBe('failed')
    expect(result.error).toBeInstanceOf(UpstreamFailedError)
  })

  it('with cancelRest aborts the losers’ signals', async () => {
    const aborted: string[] = []
    const flow = defineFlow({
      name: 'any-cancel',
      description: '',
      input: none,
      build(f) {
        const mk = (name: string, ms: number) =>
          f.start(name, ({ signal }) => {
            signal.addEventListener('abort', () => aborted.push(name))
            return delay(ms, name, signal)
          })
        const a = mk('a', 10)
        const b = mk('b', 500)
        const c = mk('c', 500)
        return { final: f.listen(any([a, b, c], { cancelRest: true }), 'first', (w) => w.value) }
      },
    })
    const t0 = performance.now()
    const result = await runFlow(flow, {}).result
    expect(result.output).toBe('a')
    expect(aborted.sort()).toEqual(['b', 'c'])
    expect(result.steps.filter((s) => s.status === 'cancelled').map((s) => s.name)).toEqual(['b', 'c'])
    expect(performance.now() - t0).toBeLessThan(400)
  })
})

describe('all', () => {
  it('passes every output in declared order even when they finish in reverse', async () => {
    const flow = defineFlow({
      name: 'order',
      description: '',
      input: none,
      build(f) {
        const steps = [40, 30, 20, 10].map((ms, i) =>
          f.start(`s${i}`, ({ signal }) => delay(ms, `v${i}`, signal)),
        )
        return { final: f.listen(all(steps), 'join', (xs) => xs) }
      },
    })
    const events = await collect(runFlow(flow, {}))
    const done = events
      .filter((e) => e.type === 'step.completed' && e.step.startsWith('s'))
      .map((e) => (e as { step: string }).step)
    expect(done).toEqual(['s3', 's2', 's1', 's0'])
    const last = events.at(-1)
    expect(last?.type === 'run.completed' && last.result.output).toEqual(['v0', 'v1', 'v2', 'v3'])
  })

  it('gives a typed tuple to the listener', async () => {
    const flow = defineFlow({
      name: 'tuple',
      description: '',
      input: none,
      build(f) {
        const n = f.start('n', () => 2)
        const s = f.start('s', () => 'x')
        return { final: f.listen(all(n, s), 'join', ([count, text]) => text.repeat(count)) }
      },
    })
    expect((await runFlow(flow, {}).result).output).toBe('xx')
  })

  it('strict: a failed input fails the join without running it', async () => {
    let ran = false
    const flow = defineFlow({
      name: 'strict',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', () => delay(5, 'a'))
        const b = f.start('b', async () => {
          throw new Error('b broke')
        })
        return {
          final: f.listen(all(a, b), 'join', () => {
            ran = true
            return 'joined'
          }),
        }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(ran).toBe(false)
    expect(result.status).toBe('failed')
    expect(result.error).toBeInstanceOf(UpstreamFailedError)
    expect((result.error as Error).message).toContain("'b' failed")
    expect(result.steps.find((s) => s.name === 'join')?.status).toBe('failed')
  })

  it('partial: passes the successes and lists the failures', async () => {
    let seen: PartialResult<string[]> | undefined
    const flow = defineFlow({
      name: 'partial',
      description: '',
      input: none,
      build(f) {
        const steps = ['a', 'b', 'c'].map((n, i) =>
          f.start(n, async ({ signal }) => {
            await delay(30 - i * 10, null, signal)
            if (n === 'b') throw new Error('b broke')
            return n.toUpperCase()
          }),
        )
        return {
          final: f.listen(all(steps, { partial: true }), 'join', (r) => {
            seen = r
            return r.values.join('')
          }),
        }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.output).toBe('AC')
    expect(seen?.failures.map((x) => x.step)).toEqual(['b'])
    expect(seen?.results.map((x) => x.ok)).toEqual([true, false, true])
  })

  it('nested: any(all(a, b), c) fires with whichever side completes first', async () => {
    const flow = defineFlow({
      name: 'nested',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', ({ signal }) => delay(10, 'a', signal))
        const b = f.start('b', ({ signal }) => delay(20, 'b', signal))
        const c = f.start('c', ({ signal }) => delay(200, 'c', signal))
        return { final: f.listen(any(all(a, b), c), 'first', (w) => w) }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.output).toEqual({ step: 'all(a, b)', value: ['a', 'b'] })
  })
})

describe('quorum', () => {
  it('fires once k agree and cancels the rest', async () => {
    const answers = ['yes', 'YES', 'no', 'Yes', 'no']
    const latency = [10, 20, 30, 40, 300]
    const flow = defineFlow({
      name: 'q',
      description: '',
      input: none,
      build(f) {
        const votes = answers.map((a, i) =>
          f.start(`v${i}`, ({ signal }) => delay(latency[i] as number, a, signal)),
        )
        const decided = f.listen(
          quorum(3, votes, { agree: (v) => v.toLowerCase(), cancelRest: true }),
          'decide',
          (q) => q,
        )
        return { final: decided }
      },
    })
    const t0 = performance.now()
    const result = await runFlow(flow, {}).result
    expect(result.output?.reached).toBe(true)
    expect(result.output?.agreedKey).toBe('yes')
    expect(result.output?.pending).toBe(1)
    expect(result.steps.find((s) => s.name === 'v4')?.status).toBe('cancelled')
    expect(performance.now() - t0).toBeLessThan(250)
  })

  it('fires with reached: false when the inputs settle without k agreeing', async () => {
    const flow = defineFlow({
      name: 'q2',
      description: '',
      input: none,
      build(f) {
        const votes = ['a', 'b', 'c'].map((a, i) => f.start(`v${i}`, () => delay(i * 5, a)))
        return { final: f.listen(quorum(2, votes, { agree: (v) => v }), 'decide', (q) => q) }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(result.output?.reached).toBe(false)
    expect(result.output?.values.map((v) => v.value)).toEqual(['a', 'b', 'c'])
  })
})

describe('router', () => {
  it('runs the listeners of the label it returns, with the router’s input', async () => {
    const flow = defineFlow({
      name: 'route',
      description: '',
      input: z.object({ n: z.number() }),
      build(f, { n }) {
        const num = f.start('num', () => n)
        const r = f.router(num, 'parity', (x) => (x % 2 === 0 ? 'even' : 'odd'), { labels: ['even', 'odd'] })
        const even = f.listen(r.label('even'), 'onEven', (x) => `even ${x}`)
        const odd = f.listen(r.label('odd'), 'onOdd', (x) => `odd ${x}`)
        return { final: f.listen(any(even, odd), 'out', (w) => w.value) }
      },
    })
    expect((await runFlow(flow, { n: 4 }).result).output).toBe('even 4')
    expect((await runFlow(flow, { n: 3 }).result).output).toBe('odd 3')
  })

  it('allows cycles, bounded by the per-step call limit', async () => {
    const flow = defineFlow({
      name: 'cycle',
      description: '',
      input: z.object({ target: z.number() }),
      build(f, { target }) {
        const seed = f.start('seed', () => 0)
        const bump = f.ref<number>('bump')
        const check = f.router(any(seed, bump), 'check', (w) => (w.value >= target ? 'done' : 'again'), {
          labels: ['done', 'again'],
          maxCalls: 10,
        })
        f.listen(check.label('again'), 'bump', (w) => w.value + 1)
        return { final: f.listen(check.label('done'), 'finish', (w) => w.value) }
      },
    })
    const ok = await runFlow(flow, { target: 5 }).result
    expect(ok.output).toBe(5)
    expect(ok.steps.find((s) => s.name === 'check')?.calls).toBe(6)
    const runaway = await runFlow(flow, { target: 50 }).result
    expect(runaway.status).toBe('failed')
    expect(runaway.steps.find((s) => s.name === 'check')?.error).toMatchObject({ code: 'call_limit' })
  })
})

describe('cancellation', () => {
  it('aborts every in-flight step’s signal and starts nothing new', async () => {
    const aborted: string[] = []
    let afterRan = false
    const flow = defineFlow({
      name: 'cancel',
      description: '',
      input: none,
      build(f) {
        const steps = ['a', 'b', 'c'].map((n) =>
          f.start(n, ({ signal }) => {
            signal.addEventListener('abort', () => aborted.push(n))
            return delay(1_000, n, signal)
          }),
        )
        return {
          final: f.listen(all(steps, { partial: true }), 'join', () => {
            afterRan = true
            return 'x'
          }),
        }
      },
    })
    const run = runFlow(flow, {})
    setTimeout(() => run.cancel('user pressed stop'), 20)
    const result = await run.result
    expect(result.status).toBe('cancelled')
    expect(result.reason).toBe('user pressed stop')
    expect(aborted.sort()).toEqual(['a', 'b', 'c'])
    expect(afterRan).toBe(false)
    expect(result.steps.map((s) => s.status)).toEqual(['cancelled', 'cancelled', 'cancelled', 'pending'])
  })

  it('reports a step that ignores its signal as cancelled at once', async () => {
    const flow = defineFlow({
      name: 'stubborn',
      description: '',
      input: none,
      build(f) {
        return { final: f.start('deaf', () => delay(5_000, 'late')) }
      },
    })
    const run = runFlow(flow, {})
    setTimeout(() => run.cancel('stop'), 10)
    const t0 = performance.now()
    const result = await run.result
    expect(result.status).toBe('cancelled')
    expect(performance.now() - t0).toBeLessThan(1_000)
  })

  it('an outside AbortSignal cancels the run', async () => {
    const controller = new AbortController()
    const flow = defineFlow({
      name: 'outside',
      description: '',
      input: none,
      build(f) {
        return { final: f.start('slow', ({ signal }) => delay(1_000, 'x', signal)) }
      },
    })
    const run = runFlow(flow, {}, { signal: controller.signal })
    controller.abort(new CancelledError('shutdown'))
    expect((await run.result).reason).toBe('shutdown')
  })
})

describe('timeouts, deadlines and retries', () => {
  it('times a try out and retries transient errors with backoff', async () => {
    let tries = 0
    const flow = defineFlow({
      name: 'retry',
      description: '',
      input: none,
      build(f) {
        return {
          final: f.start(
            'flaky',
            async ({ signal, attempt }) => {
              tries++
              if (attempt === 1) return delay(1_000, 'hung', signal) // times out
              if (attempt === 2) throw Object.assign(new Error('429'), { transient: true, retryAfterMs: 10 })
              return 'ok'
            },
            { attemptTimeoutMs: 30, retries: { attempts: 3, baseMs: 5 } },
          ),
        }
      },
    })
    const events = await collect(runFlow(flow, {}))
    expect(tries).toBe(3)
    const retries = events.filter((e) => e.type === 'step.retrying')
    expect(retries.map((e) => (e as { delayMs: number }).delayMs)[1]).toBe(10)
    const last = events.at(-1)
    expect(last?.type === 'run.completed' && last.result.output).toBe('ok')
  })

  it('does not retry errors that are not transient', async () => {
    let tries = 0
    const flow = defineFlow({
      name: 'no-retry',
      description: '',
      input: none,
      build(f) {
        return {
          final: f.start(
            'bad',
            async () => {
              tries++
              throw Object.assign(new Error('401'), { transient: false })
            },
            { retries: 5 },
          ),
        }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(tries).toBe(1)
    expect(result.status).toBe('failed')
  })

  it('does not wait out a retry-after longer than the cap', async () => {
    let tries = 0
    const flow = defineFlow({
      name: 'long-wait',
      description: '',
      input: none,
      build(f) {
        return {
          final: f.start(
            'limited',
            async () => {
              tries++
              throw Object.assign(new Error('429'), { transient: true, retryAfterMs: 120_000 })
            },
            { retries: { attempts: 3, maxRetryAfterMs: 1_000 } },
          ),
        }
      },
    })
    const result = await runFlow(flow, {}).result
    expect(tries).toBe(1)
    expect(result.status).toBe('failed')
  })

  it('cuts the run off at its deadline', async () => {
    const flow = defineFlow({
      name: 'deadline',
      description: '',
      input: none,
      build(f) {
        return { final: f.start('slow', ({ signal }) => delay(1_000, 'x', signal)) }
      },
    })
    const result = await runFlow(flow, {}, { deadlineMs: 30 }).result
    expect(result.status).toBe('failed')
    expect(result.error).toMatchObject({ code: 'deadline_exceeded' })
  })
})

describe('result', () => {
  it('does not depend on wall-clock finishing order', async () => {
    const make = (latencies: number[]) =>
      defineFlow({
        name: 'det',
        description: '',
        input: none,
        build(f) {
          const steps = latencies.map((ms, i) => f.start(`s${i}`, ({ signal }) => delay(ms, i, signal)))
          return { final: f.listen(all(steps, { partial: true }), 'sum', (r) => r.values.join(',')) }
        },
      })
    const a = await runFlow(make([5, 25, 45]), {}).result
    const b = await runFlow(make([45, 25, 5]), {}).result
    expect(a.output).toBe(b.output)
    expect(a.steps.map((s) => s.name)).toEqual(b.steps.map((s) => s.name))
  })

  it('a step that throws never leaves siblings running unobserved', async () => {
    const states: string[] = []
    const flow = defineFlow({
      name: 'throwing',
      description: '',
      input: none,
      build(f) {
        const boom = f.start('boom', async () => {
          throw new Error('boom')
        })
        const slow = f.start('slow', async ({ signal }) => {
          try {
            return await delay(100, 'slow', signal)
          } finally {
            states.push(signal.aborted ? 'aborted' : 'finished')
          }
        })
        return { final: f.listen(all(boom, slow), 'join', () => 'never') }
      },
    })
    const result = await runFlow(flow, {}).result
    // The run settles only after the sibling settled: nothing is left running behind the result.
    expect(states).toEqual(['finished'])
    expect(result.steps.find((s) => s.name === 'slow')?.status).toBe('completed')
    expect(result.status).toBe('failed')
  })

  it('reports usage and emits typed events in order', async () => {
    const flow = defineFlow({
      name: 'usage',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', ({ reportUsage }) => {
          reportUsage({ promptTokens: 3, completionTokens: 4, calls: 1 })
          return 'a'
        })
        return { first: a, final: f.listen(a, 'b', (x) => `${x}b`) }
      },
    })
    const events = await collect(runFlow(flow, {}))
    expect(events.map((e) => e.type)).toEqual([
      'run.started',
      'step.started',
      'usage',
      'step.completed',
      'run.first',
      'step.started',
      'step.completed',
      'run.completed',
    ])
    const last = events.at(-1)
    expect(last?.type === 'run.completed' && last.result.usage).toEqual({
      promptTokens: 3,
      completionTokens: 4,
      calls: 1,
    })
  })
})
