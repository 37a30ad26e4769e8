import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  type Answer,
  AskError,
  type Asker,
  all,
  any,
  DeadlineExceededError,
  defineFlow,
  durationMs,
  MemoryAsker,
  NoAnswerError,
  type Question,
  quorum,
  runFlow,
  type StepContext,
} from '../../src/engine/index.ts'
import { collect, delay } from './helpers.ts'

const none = z.object({})
const ship = [
  { value: 'yes', label: 'Ship it' },
  { value: 'no', label: 'Hold' },
] as const

/** A MemoryAsker for `ann` that calls `reply` a few ms after each question opens. */
function answering(reply: (q: Question, asker: MemoryAsker) => void = () => {}): MemoryAsker {
  const asker: MemoryAsker = new MemoryAsker({
    requester: 'ann',
    onAsk: (q) => setTimeout(() => reply(q, asker), 5),
  })
  return asker
}

/** Resolves once `check` holds, polling; rejects after 2 s. */
async function until(check: () => boolean): Promise<void> {
  const t0 = performance.now()
  while (!check()) {
    if (performance.now() - t0 > 2_000) throw new Error('condition not met in 2 s')
    await delay(2, undefined)
  }
}

/** A flow of one step, `fn`, with step options. */
function oneStep<T>(fn: (ctx: StepContext) => Promise<T>, options: { timeoutMs?: number } = {}) {
  return defineFlow({
    name: 'one',
    description: '',
    input: none,
    build: (f) => ({ final: f.start('s', fn, options) }),
  })
}

const shipAsk = (extra: object = {}) => ({ prompt: 'Ship?', choices: ship, timeout: '1m', ...extra })

describe('ctx.ask', () => {
  it('resolves a choice ask with the answer, and the step uses it', async () => {
    const seen: Question[] = []
    const asker = answering((q, a) => {
      seen.push(q)
      a.answer(q.id, 'ann', 'yes')
    })
    const flow = oneStep(async (ctx) => {
      const answer = await ctx.ask(shipAsk())
      return `${answer.value} by ${answer.by} (${answer.outcome})`
    })
    const result = await runFlow(flow, {}, { asker }).result
    expect(result.output).toBe('yes by ann (answered)')
    expect(seen[0]).toMatchObject({
      id: 's#1#1',
      step: 's',
      prompt: 'Ship?',
      who: 'requester',
      timeoutMs: 60_000,
      choices: [
        { value: 'yes', label: 'Ship it' },
        { value: 'no', label: 'Hold' },
      ],
      collect: undefined,
    })
    expect(asker.open).toEqual([])
  })

  it('numbers questions <step>#<call>#<n or id>, the same on a retry of the step', async () => {
    const ids: string[] = []
    const recorder: Asker = {
      async ask(q): Promise<Answer<unknown>> {
        ids.push(q.id)
        return {
          value: 'yes',
          outcome: 'answered',
          by: 'ann',
          answers: [{ user: 'ann', value: 'yes' }],
          tally: [],
        }
      },
    }
    const flow = defineFlow({
      name: 'retry',
      description: '',
      input: none,
      build: (f) => ({
        final: f.start(
          's',
          async (ctx) => {
            await ctx.ask(shipAsk())
            await ctx.ask(shipAsk({ id: 'budget' }))
            await ctx.ask(shipAsk())
            if (ctx.attempt === 1) throw Object.assign(new Error('upstream hiccup'), { transient: true })
            return ctx.attempt
          },
          { retries: { attempts: 2, baseMs: 1, maxMs: 1 } },
        ),
      }),
    })
    const result = await runFlow(flow, {}, { asker: recorder }).result
    expect(result.output).toBe(2)
    expect(ids).toEqual(['s#1#1', 's#1#budget', 's#1#3', 's#1#1', 's#1#budget', 's#1#3'])
  })

  it('refuses a second question with the same id in one step call', async () => {
    const asker = answering((q, a) => a.answer(q.id, 'ann', 'yes'))
    const flow = oneStep(async (ctx) => {
      await ctx.ask(shipAsk({ id: '2' }))
      return (await ctx.ask(shipAsk())).value
    })
    const result = await runFlow(flow, {}, { asker }).result
    expect(result.status).toBe('failed')
    expect(result.steps[0]?.error).toBeInstanceOf(AskError)
    expect(String(result.steps[0]?.error)).toMatch(/s#1#2 is asked twice/)
  })

  it('fails the step with AskError when the run has no one to ask', async () => {
    const result = await runFlow(
      oneStep(async (ctx) => (await ctx.ask(shipAsk())).value),
      {},
    ).result
    expect(result.steps[0]?.error).toBeInstanceOf(AskError)
    expect(String(result.steps[0]?.error)).toMatch(/no one to ask/)
  })
})

describe('asks in joins', () => {
  /** Records each question's abort, as an asker with something to clean up would. */
  function watching(inner: MemoryAsker): { asker: Asker; aborted: string[] } {
    const aborted: string[] = []
    return {
      aborted,
      asker: {
        ask(q, signal) {
          signal.addEventListener('abort', () => aborted.push(q.id))
          return inner.ask(q, signal)
        },
      },
    }
  }

  const race = (modelMs: number) =>
    defineFlow({
      name: 'race',
      description: '',
      input: none,
      build(f) {
        const model = f.start('model', ({ signal }) => delay(modelMs, 'model says yes', signal))
        const human = f.start('human', async (ctx) => (await ctx.ask(shipAsk())).value)
        return {
          final: f.listen(any([model, human], { cancelRest: true }), 'pick', (w) => `${w.step}:${w.value}`),
        }
      },
    })

  it('any: the model wins over a slow person; the losing ask is aborted and closed', async () => {
    const inner = answering()
    const { asker, aborted } = watching(inner)
    const result = await runFlow(race(20), {}, { asker }).result
    expect(result.output).toBe('model:model says yes')
    expect(aborted).toEqual(['human#1#1'])
    expect(inner.open).toEqual([])
    expect(result.steps.find((s) => s.name === 'human')?.status).toBe('cancelled')
  })

  it('any: a quick answer wins over a slow model, which is cancelled', async () => {
    const inner = answering((q, a) => a.answer(q.id, 'ann', 'no'))
    const { asker, aborted } = watching(inner)
    const t0 = performance.now()
    const result = await runFlow(race(1_000), {}, { asker }).result
    expect(result.output).toBe('human:no')
    expect(aborted).toEqual([])
    expect(result.steps.find((s) => s.name === 'model')?.status).toBe('cancelled')
    expect(performance.now() - t0).toBeLessThan(800)
  })

  it('all: asks in parallel branches are open at once and both answers reach the join', async () => {
    const asker = answering()
    const flow = defineFlow({
      name: 'both',
      description: '',
      input: none,
      build(f) {
        const a = f.start('a', async (ctx) => (await ctx.ask(shipAsk())).value)
        const b = f.start('b', async (ctx) => (await ctx.ask({ ...shipAsk(), who: 'anyone' })).value)
        return { final: f.listen(all(a, b), 'both', ([x, y]) => `${x}+${y}`) }
      },
    })
    const run = runFlow(flow, {}, { asker })
    await until(() => asker.open.length === 2)
    expect(asker.open.map((q) => q.id).sort()).toEqual(['a#1#1', 'b#1#1'])
    expect(asker.answer('b#1#1', 'zed', 'no')).toEqual({ ok: true, decided: true })
    expect(asker.open.map((q) => q.id)).toEqual(['a#1#1'])
    expect(asker.answer('a#1#1', 'ann', 'yes')).toEqual({ ok: true, decided: true })
    expect((await run.result).output).toBe('yes+no')
  })

  it('quorum(2, three asks) fires with the first two answers and aborts the third', async () => {
    const asker = answering()
    const flow = defineFlow({
      name: 'q',
      description: '',
      input: none,
      build(f) {
        const asks = ['a1', 'a2', 'a3'].map((name) =>
          f.start(name, async (ctx) => (await ctx.ask({ ...shipAsk(), who: 'anyone' })).value),
        )
        return {
          final: f.listen(quorum(2, asks, { cancelRest: true }), 'enough', (r) =>
            r.values.map((v) => `${v.step}=${v.value}`).join(' '),
          ),
        }
      },
    })
    const run = runFlow(flow, {}, { asker })
    await until(() => asker.open.length === 3)
    asker.answer('a3#1#1', 'x', 'no')
    asker.answer('a1#1#1', 'y', 'yes')
    const result = await run.result
    expect(result.output).toBe('a1=yes a3=no')
    expect(result.steps.find((s) => s.name === 'a2')?.status).toBe('cancelled')
    expect(asker.open).toEqual([])
  })
})

describe('asks and the clock', () => {
  it('cancelling the run rejects the open asks: the step is cancelled', async () => {
    const asker = answering()
    const run = runFlow(
      oneStep(async (ctx) => (await ctx.ask(shipAsk())).value),
      {},
      { asker },
    )
    const events = collect(run)
    await until(() => asker.open.length === 1)
    run.cancel('stopped by ann')
    const result = await run.result
    expect(result.status).toBe('cancelled')
    expect(asker.open).toEqual([])
    expect(asker.answer('s#1#1', 'ann', 'yes')).toMatchObject({ ok: false, reason: 'unknown' })
    expect((await events).filter((e) => e.type === 'step.cancelled')).toMatchObject([
      { step: 's', reason: 'stopped by ann' },
    ])
  })

  it('waiting for an answer does not count against the step timeout', async () => {
    const asker = new MemoryAsker({ requester: 'ann' })
    const flow = oneStep(async (ctx) => (await ctx.ask(shipAsk())).value, { timeoutMs: 50 })
    const run = runFlow(flow, {}, { asker })
    await until(() => asker.open.length === 1)
    await delay(200, undefined)
    asker.answer('s#1#1', 'ann', 'yes')
    const result = await run.result
    expect(result.status).toBe('completed')
    expect(result.output).toBe('yes')
  })

  it('the run deadline does cut a waiting ask off', async () => {
    const asker = new MemoryAsker({ requester: 'ann' })
    const flow = oneStep(async (ctx) => (await ctx.ask(shipAsk())).value, { timeoutMs: 50 })
    const t0 = performance.now()
    const result = await runFlow(flow, {}, { asker, deadlineMs: 100 }).result
    expect(result.status).toBe('failed')
    expect(result.error).toBeInstanceOf(DeadlineExceededError)
    expect(asker.open).toEqual([])
    expect(performance.now() - t0).toBeLessThan(1_000)
  })

  it('at the question deadline, onTimeout gives its value with outcome timeout', async () => {
    const asker = new MemoryAsker({ requester: 'ann' })
    const flow = oneStep(async (ctx) => {
      const a = await ctx.ask(shipAsk({ timeout: 30, onTimeout: { value: 'no' } }))
      return [a.value, a.outcome, a.by, a.answers.length]
    })
    expect((await runFlow(flow, {}, { asker }).result).output).toEqual(['no', 'timeout', undefined, 0])
  })

  it('at the question deadline, without onTimeout, the step fails: no one answered', async () => {
    const asker = new MemoryAsker({ requester: 'ann' })
    const flow = oneStep(async (ctx) => (await ctx.ask(shipAsk({ timeout: '30ms' }))).value)
    const result = await runFlow(flow, {}, { asker }).result
    expect(result.status).toBe('failed')
    const error = result.steps[0]?.error
    expect(error).toBeInstanceOf(NoAnswerError)
    expect((error as Error).message).toBe('no decision on "Ship?": no one answered in time')
    expect((error as NoAnswerError).question).toBe('s#1#1')
  })

  it('a question open for days does not close at once (timers past 2^31 ms)', async () => {
    const asker = answering((q, a) => setTimeout(() => a.answer(q.id, 'ann', 'yes'), 30))
    const flow = oneStep(async (ctx) => (await ctx.ask(shipAsk({ timeout: '30d' }))).outcome)
    expect((await runFlow(flow, {}, { asker }).result).output).toBe('answered')
  })
})

describe('collections', () => {
  it('collect {agree: 3}: one vote per person, a changed vote counts once, the third agreeing closes it', async () => {
    const results: unknown[] = []
    const asker = answering((q, a) => {
      results.push(a.answer(q.id, 'v1', 'yes'))
      results.push(a.answer(q.id, 'v2', 'no'))
      results.push(a.answer(q.id, 'v3', 'no'))
      results.push(a.answer(q.id, 'v2', 'yes'))
      results.push(a.answer(q.id, 'v4', 'yes'))
      results.push(a.answer(q.id, 'v5', 'no'))
    })
    const flow = oneStep(async (ctx) => ctx.ask({ ...shipAsk(), who: 'anyone', collect: { agree: 3 } }))
    const answer = (await runFlow(flow, {}, { asker }).result).output as Answer<string>
    expect(results.slice(0, 4)).toEqual(Array(4).fill({ ok: true, decided: false }))
    expect(results[4]).toEqual({ ok: true, decided: true })
    expect(results[5]).toMatchObject({ ok: false, reason: 'unknown' })
    expect(answer).toMatchObject({ value: 'yes', outcome: 'agreed', by: 'v4' })
    expect(answer.answers).toEqual([
      { user: 'v1', value: 'yes' },
      { user: 'v2', value: 'yes' },
      { user: 'v3', value: 'no' },
      { user: 'v4', value: 'yes' },
    ])
    expect(answer.tally).toEqual([
      { value: 'yes', label: 'Ship it', count: 3 },
      { value: 'no', label: 'Hold', count: 1 },
    ])
  })

  it('collect {answers: 4} closing tied fails the step: tied between', async () => {
    const asker = answering((q, a) => {
      for (const [user, value] of [
        ['p', 'yes'],
        ['q', 'no'],
        ['r', 'no'],
        ['s', 'yes'],
      ] as const)
        a.answer(q.id, user, value)
    })
    const flow = oneStep(
      async (ctx) => (await ctx.ask({ ...shipAsk(), who: 'anyone', collect: { answers: 4 } })).value,
    )
    const error = (await runFlow(flow, {}, { asker }).result).steps[0]?.error
    expect(error).toBeInstanceOf(NoAnswerError)
    expect((error as Error).message).toBe(
      'no decision on "Ship?": the vote closed tied between Ship it and Hold',
    )
    expect((error as NoAnswerError).answers).toHaveLength(4)
  })

  it('closing a vote early (the console at EOF) lets the leader win', async () => {
    const asker = answering((q, a) => {
      a.answer(q.id, 'p', 'no')
      a.answer(q.id, 'q', 'no')
      a.answer(q.id, 'r', 'yes')
      a.close(q.id)
    })
    const flow = oneStep(async (ctx) => ctx.ask({ ...shipAsk(), who: 'anyone', collect: { agree: 5 } }))
    const answer = (await runFlow(flow, {}, { asker }).result).output as Answer<string>
    expect(answer).toMatchObject({ value: 'no', outcome: 'closed', by: undefined })
  })
})

describe('who may answer', () => {
  it('MemoryAsker.answer enforces requester, named users and anyone', async () => {
    const asker = new MemoryAsker({ requester: 'ann' })
    const flow = defineFlow({
      name: 'who',
      description: '',
      input: none,
      build(f) {
        const mine = f.start('mine', async (ctx) => (await ctx.ask(shipAsk())).by)
        const named = f.start(
          'named',
          async (ctx) => (await ctx.ask(shipAsk({ who: { users: ['u1', 'u2'] } }))).by,
        )
        const open = f.start('open', async (ctx) => (await ctx.ask(shipAsk({ who: 'anyone' }))).by)
        return { final: f.listen(all(mine, named, open), 'by', (xs) => xs.join(' ')) }
      },
    })
    const run = runFlow(flow, {}, { asker })
    await until(() => asker.open.length === 3)
    const refused = { ok: false, reason: 'not_allowed', message: 'You are not among those asked.' }
    expect(asker.answer('mine#1#1', 'bob', 'yes')).toEqual(refused)
    expect(asker.answer('named#1#1', 'ann', 'yes')).toEqual(refused)
    expect(asker.answer('named#1#1', 'u3', 'yes')).toEqual(refused)
    expect(asker.open).toHaveLength(3)
    expect(asker.answer('mine#1#1', 'ann', 'yes')).toEqual({ ok: true, decided: true })
    expect(asker.answer('named#1#1', 'u2', 'yes')).toEqual({ ok: true, decided: true })
    expect(asker.answer('open#1#1', 'stranger', 'yes')).toEqual({ ok: true, decided: true })
    expect((await run.result).output).toBe('ann u2 stranger')
  })

  it('refuses a value that is not one of the choices and keeps the question open', async () => {
    const asker = new MemoryAsker({ requester: 'ann' })
    const run = runFlow(
      oneStep(async (ctx) => (await ctx.ask(shipAsk())).value),
      {},
      { asker },
    )
    await until(() => asker.open.length === 1)
    expect(asker.answer('s#1#1', 'ann', 'maybe')).toEqual({
      ok: false,
      reason: 'invalid',
      message: 'Pick one of: Ship it, Hold.',
    })
    expect(asker.open).toHaveLength(1)
    asker.answer('s#1#1', 'ann', 'no')
    expect((await run.result).output).toBe('no')
  })
})

describe('forms', () => {
  const booking = z.object({
    name: z.string().trim().min(1, 'Give a name').describe('Name'),
    seats: z.coerce.number().int().min(1).max(9).describe('Seats'),
  })

  it('validates the answer (an invalid one is refused, the question stays open); the step gets the parsed object', async () => {
    const asker = new MemoryAsker({ requester: 'ann' })
    const flow = oneStep(async (ctx) => {
      const a = await ctx.ask({ prompt: 'Book a table\nfor tonight', form: booking, timeout: '5m' })
      return a.value
    })
    const run = runFlow(flow, {}, { asker })
    await until(() => asker.open.length === 1)
    const [q] = asker.open
    expect(q?.form?.title).toBe('Book a table')
    expect(q?.choices).toBeUndefined()
    expect(asker.answer('s#1#1', 'ann', { name: ' ', seats: '2' })).toEqual({
      ok: false,
      reason: 'invalid',
      message: 'Give a name',
    })
    expect(asker.open).toHaveLength(1)
    expect(asker.answer('s#1#1', 'ann', { name: 'Ann', seats: '2' })).toEqual({ ok: true, decided: true })
    expect((await run.result).output).toEqual({ name: 'Ann', seats: 2 })
  })
})

describe('malformed asks fail the step with AskError, asking no one', () => {
  const six = z.object(Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => [k, z.string()])))
  it.each([
    ['no prompt', { prompt: ' ', choices: ship, timeout: '1m' }, /an ask needs a prompt/],
    [
      'a bad timeout',
      shipAsk({ timeout: '10 parsecs' }),
      /timeout '10 parsecs' is not a duration like '10m'/,
    ],
    ['one choice', { prompt: 'Ship?', choices: ['yes'], timeout: '1m' }, /at least 2 choices/],
    [
      'onTimeout not a choice',
      shipAsk({ onTimeout: { value: 'maybe' } }),
      /onTimeout value 'maybe' is not one of the choices/,
    ],
    ['six form fields', { prompt: 'Form', form: six, timeout: '1m' }, /a form has 1 to 5 fields/],
    ['no users', shipAsk({ who: { users: [] } }), /needs at least one user id/],
    ['a fractional collect', shipAsk({ collect: { agree: 1.5 } }), /collect.agree must be a whole number/],
  ])('%s', async (_, spec, message) => {
    const asker = new MemoryAsker({ requester: 'ann' })
    let asked = 0
    const counting: Asker = {
      ask: (q, signal) => {
        asked++
        return asker.ask(q, signal)
      },
    }
    const flow = oneStep(async (ctx) => ctx.ask(spec as never))
    const result = await runFlow(flow, {}, { asker: counting }).result
    expect(result.status).toBe('failed')
    const error = result.steps[0]?.error
    expect(error).toBeInstanceOf(AskError)
    expect((error as Error).message).toMatch(/^step 's': /)
    expect((error as Error).message).toMatch(message)
    expect(asked).toBe(0)
  })
})

describe('durationMs', () => {
  it('reads milliseconds and durations, and nothing else', () => {
    expect(durationMs(250)).toBe(250)
    expect(durationMs('90s')).toBe(90_000)
    expect(durationMs('10m')).toBe(600_000)
    expect(durationMs('1.5h')).toBe(5_400_000)
    expect(durationMs('3d')).toBe(259_200_000)
    for (const bad of ['10 parsecs', '', '-5s', '0s', 0, -1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(durationMs(bad)).toBeUndefined()
  })
})
