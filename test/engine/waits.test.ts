import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  all,
  defineFlow,
  FairLimiter,
  type FlowEvent,
  type PartialResult,
  runFlow,
  sleep,
} from '../../src/engine/index.ts'
import { collect, delay } from './helpers.ts'

const none = z.object({})
const transient = () => Object.assign(new Error('upstream timed out'), { transient: true })

describe('step timeout is a budget for the whole call', () => {
  it('ends a step whose every try runs into its own shorter timeout once the budget is spent', async () => {
    let tries = 0
    const flow = defineFlow({
      name: 'budget',
      description: '',
      input: none,
      build(f) {
        return {
          // Each try fails after 80 ms the way an SDK request timeout would; three of them would take 240 ms.
          final: f.start(
            'hung',
            async ({ signal }) => {
              tries++
              await sleep(80, signal)
              throw transient()
            },
            { timeoutMs: 120, retries: { attempts: 3, baseMs: 1, maxMs: 1 } },
          ),
        }
      },
    })
    const t0 = performance.now()
    const result = await runFlow(flow, {}).result
    expect(performance.now() - t0).toBeLessThan(200)
    expect(tries).toBe(2)
    expect(result.steps[0]?.error).toMatchObject({ code: 'step_timeout' })
  })

  it('tells each try what is left of the budget, so a request timeout can fit inside it', async () => {
    const left: Array<number | undefined> = []
    const flow = defineFlow({
      name: 'left',
      description: '',
      input: none,
      build(f) {
        return {
          final: f.start(
            'flaky',
            async ({ remainingMs, attempt }) => {
              left.push(remainingMs())
              await sleep(40)
              if (attempt < 3) throw transient()
              return 'ok'
            },
            { timeoutMs: 500, retries: { attempts: 3, baseMs: 1, maxMs: 1 } },
          ),
        }
      },
    })
    expect((await runFlow(flow, {}).result).output).toBe('ok')
    expect(left).toHaveLength(3)
    expect(left[0]).toBeLessThanOrEqual(500)
    expect(left[1]).toBeLessThan((left[0] as number) - 30)
    expect(left[2]).toBeLessThan((left[1] as number) - 30)
  })
})

describe('queue time', () => {
  it('time waiting for a limiter slot does not count against the step timeout, and is reported', async () => {
    const limiter = new FairLimiter(1)
    const flow = defineFlow({
      name: 'queued',
      description: '',
      input: none,
      build(f) {
        const hog = f.start('hog', ({ slot, signal }) => slot(() => delay(150, 'hog', signal)))
        const late = f.start('late', ({ slot, signal }) => slot(() => delay(20, 'late', signal)), {
          timeoutMs: 80,
        })
        return { final: f.listen(all(hog, late), 'join', (xs) => xs.join('+')) }
      },
    })
    const run = runFlow(flow, {}, { limiter })
    const events = await collect(run)
    const result = await run.result
    expect(result.output).toBe('hog+late')
    const late = events.find((e) => e.type === 'step.completed' && e.step === 'late') as Extract<
      FlowEvent,
      { type: 'step.completed' }
    >
    expect(late.queuedMs).toBeGreaterThan(100)
  })

  it('hands the call the time left when its slot comes', async () => {
    const limiter = new FairLimiter(1)
    let given: number | undefined
    const flow = defineFlow({
      name: 'given',
      description: '',
      input: none,
      build(f) {
        const hog = f.start('hog', ({ slot, signal }) => slot(() => delay(100, 'hog', signal)))
        const next = f.start(
          'next',
          ({ slot }) =>
            slot(async (timeoutMs) => {
              given = timeoutMs
              return 'next'
            }),
          { timeoutMs: 60 },
        )
        return { final: f.listen(all(hog, next), 'join', (xs) => xs.join('+')) }
      },
    })
    await runFlow(flow, {}, { limiter }).result
    expect(given).toBeGreaterThan(40)
    expect(given).toBeLessThanOrEqual(60)
  })
})

describe('straggler grace', () => {
  const fanOut = (graceMs: number | undefined, seen: { r?: PartialResult<string[]> }) =>
    defineFlow({
      name: 'grace',
      description: '',
      input: none,
      build(f) {
        const steps = ['a', 'b', 'c'].map((n) =>
          f.start(n, ({ signal }) => delay(n === 'c' ? 3_000 : 10, n, signal)),
        )
        const options =
          graceMs === undefined ? { partial: true as const } : { partial: true as const, graceMs }
        return {
          final: f.listen(all(steps, options), 'join', (r) => {
            seen.r = r
            return r.values.join('')
          }),
        }
      },
    })

  it('fires a partial all once the last input is later than its grace, listing it as too slow and aborting it', async () => {
    const seen: { r?: PartialResult<string[]> } = {}
    const t0 = performance.now()
    const result = await runFlow(fanOut(60, seen), {}).result
    expect(performance.now() - t0).toBeLessThan(1_000)
    expect(result.output).toBe('ab')
    expect(seen.r?.failures).toEqual([
      { ok: false, step: 'c', error: expect.objectContaining({ code: 'straggler' }), cancelled: false },
    ])
    expect(result.steps.find((s) => s.name === 'c')).toMatchObject({ status: 'failed' })
  })

  it('takes the run-wide grace when the join sets none', async () => {
    const seen: { r?: PartialResult<string[]> } = {}
    const t0 = performance.now()
    const result = await runFlow(fanOut(undefined, seen), {}, { graceMs: 60 }).result
    expect(performance.now() - t0).toBeLessThan(1_000)
    expect(result.output).toBe('ab')
  })
})
