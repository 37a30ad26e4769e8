/**
 * The RunStore contract for asks: parking runs that wait for people, and questions decided once.
 * Registered by `runStoreContract`; the concurrent cases race stores opened apart on the same data,
 * as separate processes would.
 */
import { randomUUID } from 'node:crypto'
import { expect, it } from 'vitest'
import type { GivenAnswer, NewQuestion, NewRun, RunStore, StoredDecision } from '../../src/store/index.ts'

export interface SiblingFactory {
  /** Another store on the same data, with its own connection; the caller closes it. */
  sibling(store: RunStore): Promise<RunStore>
}

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: randomUUID(),
    command: 'vote',
    input: { question: 'lunch?' },
    user: 'Ada',
    target: { platform: 'slack', channel: 'C1' },
    createdAt: Date.now(),
    ...overrides,
  }
}

function newQuestion(runId: string, overrides: Partial<NewQuestion> = {}): NewQuestion {
  return {
    runId,
    id: 'pick#1#1',
    step: 'pick',
    spec: { title: 'Lunch?', choices: [{ value: 'pizza', label: 'Pizza 🍕' }], who: { kind: 'anyone' } },
    createdAt: 1_700_000_000_000,
    deadlineAt: 1_700_000_060_000,
    ...overrides,
  }
}

function given(user: string, value: unknown, at = Date.now()): GivenAnswer {
  return { user, name: user.toUpperCase(), value, at }
}

function decision(by: string, value: unknown = 'pizza'): StoredDecision {
  return {
    ok: true,
    value,
    outcome: 'answered',
    by,
    answers: [{ user: by, value }],
    tally: [],
    at: Date.now(),
  }
}

/** Registers the asks cases; `store()` is the suite's store once its `beforeAll` ran. */
export function asksContract(store: () => RunStore, factory: SiblingFactory): void {
  it('keeps who ran a run as the platform knows them; a new run is neither parked nor woken', async () => {
    const run = newRun({ userId: 'U123' })
    const anonymous = newRun()
    await store().create(run)
    await store().create(anonymous)
    expect(await store().get(run.id)).toMatchObject({ userId: 'U123', parked: false, wakes: 0 })
    expect((await store().get(anonymous.id))?.userId).toBeUndefined()
  })

  it('parks a running run, leaves it out of unfinished, and lists it with its wake time', async () => {
    const run = newRun()
    await store().create(run)
    expect(await store().park(run.id, 0, 1_700_000_060_000)).toBe(true)
    expect(await store().get(run.id)).toMatchObject({ parked: true, wakes: 0 })
    expect((await store().unfinished()).map((r) => r.id)).not.toContain(run.id)
    expect(await store().parkedRuns()).toContainEqual({ id: run.id, wakeAt: 1_700_000_060_000 })
  })

  it('wakes a parked run once: true only while it is parked, and every wake is counted', async () => {
    const run = newRun()
    await store().create(run)
    await store().park(run.id, 0, undefined)
    expect(await store().parkedRuns()).toContainEqual({ id: run.id, wakeAt: undefined })
    expect(await store().wake(run.id)).toBe(true)
    expect(await store().get(run.id)).toMatchObject({ parked: false, wakes: 1 })
    expect((await store().unfinished()).map((r) => r.id)).toContain(run.id)
    expect((await store().parkedRuns()).map((r) => r.id)).not.toContain(run.id)
    expect(await store().wake(run.id)).toBe(false)
    expect((await store().get(run.id))?.wakes).toBe(2)
  })

  it('refuses to park a run woken since its worker read the wakes', async () => {
    const run = newRun()
    await store().create(run)
    const read = (await store().get(run.id))?.wakes as number
    expect(await store().wake(run.id)).toBe(false)
    expect(await store().park(run.id, read, undefined)).toBe(false)
    expect((await store().get(run.id))?.parked).toBe(false)
    expect(await store().park(run.id, read + 1, undefined)).toBe(true)
  })

  it('neither parks nor wakes an ended or unknown run, and finishing a parked run unlists it', async () => {
    const run = newRun()
    await store().create(run)
    await store().park(run.id, 0, 1)
    await store().finish(run.id, 'stopped', { stoppedBy: 'grace' })
    expect((await store().parkedRuns()).map((r) => r.id)).not.toContain(run.id)
    expect(await store().wake(run.id)).toBe(false)
    expect(await store().park(run.id, 0, 1)).toBe(false)
    expect(await store().wake(randomUUID())).toBe(false)
    expect(await store().park(randomUUID(), 0, 1)).toBe(false)
  })

  it('opens a question once: a second open returns it as it is, first deadline kept', async () => {
    const run = newRun()
    await store().create(run)
    const q = newQuestion(run.id)
    const opened = await store().openQuestion(q)
    expect(opened).toEqual({ ...q, message: undefined, answers: [], version: 0, decision: undefined })
    await store().giveAnswer(run.id, q.id, given('U1', 'pizza', 5))
    const again = await store().openQuestion({ ...q, deadlineAt: q.deadlineAt + 60_000, spec: { other: 1 } })
    expect(again).toMatchObject({ deadlineAt: q.deadlineAt, spec: q.spec, version: 1 })
    expect(again.answers).toEqual([{ user: 'U1', name: 'U1', value: 'pizza', at: 5 }])
    expect(await store().question(run.id, q.id)).toEqual(again)
  })

  it('lists a run’s questions in the order they were opened', async () => {
    const run = newRun()
    await store().create(run)
    for (const id of ['b#1#1', 'a#1#1', 'c#2#1']) await store().openQuestion(newQuestion(run.id, { id }))
    expect((await store().questions(run.id)).map((q) => q.id)).toEqual(['b#1#1', 'a#1#1', 'c#2#1'])
    expect(await store().questions(randomUUID())).toEqual([])
    expect(await store().question(run.id, 'd#1#1')).toBeUndefined()
  })

  it('keeps an answer given before its question was recorded, and counts it', async () => {
    const run = newRun()
    await store().create(run)
    const q = newQuestion(run.id)
    expect(await store().giveAnswer(run.id, q.id, given('U1', 'pizza', 7))).toEqual({
      ok: true,
      record: undefined,
    })
    expect(await store().question(run.id, q.id)).toBeUndefined()
    expect(await store().questions(run.id)).toEqual([])
    const opened = await store().openQuestion(q)
    expect(opened).toMatchObject({ version: 1, answers: [{ user: 'U1', value: 'pizza', at: 7 }] })
  })

  it('keeps a person’s last answer in the place of their first, and bumps the version each time', async () => {
    const run = newRun()
    await store().create(run)
    const q = newQuestion(run.id)
    await store().openQuestion(q)
    await store().giveAnswer(run.id, q.id, given('U1', 'pizza', 1))
    await store().giveAnswer(run.id, q.id, given('U2', 'sushi', 2))
    const changed = await store().giveAnswer(run.id, q.id, {
      user: 'U1',
      name: 'Ada L.',
      value: 'sushi',
      at: 3,
    })
    expect(changed.ok).toBe(true)
    expect(changed.record?.version).toBe(3)
    expect(changed.record?.answers).toEqual([
      { user: 'U1', name: 'Ada L.', value: 'sushi', at: 3 },
      { user: 'U2', name: 'U2', value: 'sushi', at: 2 },
    ])
  })

  it('refuses answers once decided and changes nothing', async () => {
    const run = newRun()
    await store().create(run)
    const q = newQuestion(run.id)
    await store().openQuestion(q)
    const first = await store().giveAnswer(run.id, q.id, given('U1', 'pizza'))
    const d = decision('U1')
    expect(await store().decide(run.id, q.id, d, first.record?.version as number)).toMatchObject({
      won: true,
    })
    const late = await store().giveAnswer(run.id, q.id, given('U2', 'sushi'))
    expect(late.ok).toBe(false)
    expect(late.record).toEqual(first.record && { ...first.record, decision: d })
    expect(await store().question(run.id, q.id)).toEqual(late.record)
  })

  it('decides only against the version it saw, and only once', async () => {
    const run = newRun()
    await store().create(run)
    const q = newQuestion(run.id)
    expect(await store().decide(run.id, q.id, decision('U1'), 0)).toEqual({ won: false, record: undefined })
    await store().openQuestion(q)
    await store().giveAnswer(run.id, q.id, given('U1', 'pizza'))
    await store().giveAnswer(run.id, q.id, given('U2', 'sushi'))
    const stale = await store().decide(run.id, q.id, decision('U1'), 1)
    expect(stale.won).toBe(false)
    expect(stale.record).toMatchObject({ version: 2, decision: undefined })
    const d = decision('U2', 'sushi')
    expect(await store().decide(run.id, q.id, d, 2)).toMatchObject({ won: true, record: { decision: d } })
    const again = await store().decide(run.id, q.id, decision('U1'), 2)
    expect(again).toMatchObject({ won: false, record: { decision: d } })
  })

  it('round-trips specs, answers, messages and decisions as JSON', async () => {
    const run = newRun()
    await store().create(run)
    const spec = {
      fields: [],
      n: 0.1 + 0.2,
      big: 2 ** 53 - 1,
      text: 'é "q" \\ / ✓',
      none: null,
      deep: { a: [[]] },
    }
    const q = newQuestion(run.id, { id: 'form#3#2', spec })
    await store().openQuestion(q)
    await store().setQuestionMessage(run.id, q.id, { channel: 'C1', ts: '1700000000.000100', ids: [] })
    const value = { why: 'because\nreasons', score: 1e-7, tags: [] }
    await store().giveAnswer(run.id, q.id, given('U:1#x', value))
    await store().giveAnswer(run.id, q.id, given('U2', 42))
    const d: StoredDecision = { ok: false, answers: [], tally: [], at: 12, withdrawn: 'the run has ended.' }
    await store().decide(run.id, q.id, d, 2)
    const got = await store().question(run.id, q.id)
    expect(got?.spec).toEqual(spec)
    expect(got?.message).toEqual({ channel: 'C1', ts: '1700000000.000100', ids: [] })
    expect(got?.answers.map((a) => a.value)).toEqual([value, 42])
    expect(got?.decision).toEqual(d)
  })

  it('lets exactly one of many concurrent deciders win', async () => {
    const run = newRun()
    await store().create(run)
    const q = newQuestion(run.id)
    await store().openQuestion(q)
    const { record } = await store().giveAnswer(run.id, q.id, given('U1', 'pizza'))
    const stores = [store(), ...(await Promise.all([1, 2, 3].map(() => factory.sibling(store()))))]
    try {
      const claims = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (stores[i % stores.length] as RunStore).decide(
            run.id,
            q.id,
            decision(`U${i}`),
            record?.version as number,
          ),
        ),
      )
      const winners = claims.flatMap((c, i) => (c.won ? [i] : []))
      expect(winners).toHaveLength(1)
      expect((await store().question(run.id, q.id))?.decision).toMatchObject({ by: `U${winners[0]}` })
    } finally {
      await Promise.all(stores.slice(1).map((s) => s.close()))
    }
  })

  it('keeps every one of many concurrent answers and counts each', async () => {
    const run = newRun()
    await store().create(run)
    const q = newQuestion(run.id)
    await store().openQuestion(q)
    const stores = [store(), ...(await Promise.all([1, 2, 3].map(() => factory.sibling(store()))))]
    try {
      const users = Array.from({ length: 20 }, (_, i) => `U${i}`)
      const kept = await Promise.all(
        users.map((u, i) =>
          (stores[i % stores.length] as RunStore).giveAnswer(run.id, q.id, given(u, 'pizza')),
        ),
      )
      expect(kept.every((k) => k.ok)).toBe(true)
      const got = await store().question(run.id, q.id)
      expect(got?.version).toBe(20)
      expect(got?.answers.map((a) => a.user).sort()).toEqual([...users].sort())
    } finally {
      await Promise.all(stores.slice(1).map((s) => s.close()))
    }
  })

  it('prunes the questions and answers of pruned runs', async () => {
    const run = newRun()
    await store().create(run)
    const q = newQuestion(run.id)
    await store().openQuestion(q)
    await store().giveAnswer(run.id, q.id, given('U1', 'pizza'))
    await store().giveAnswer(run.id, 'never#1#1', given('U1', 'early'))
    await store().finish(run.id, 'completed')
    expect(await store().prune(Date.now() + 1_000)).toBeGreaterThanOrEqual(1)
    expect(await store().questions(run.id)).toEqual([])
    // Nothing left behind: a question opened again under the same ids starts empty.
    expect(await store().openQuestion(q)).toMatchObject({ version: 0, answers: [] })
    expect(await store().openQuestion({ ...q, id: 'never#1#1' })).toMatchObject({ version: 0, answers: [] })
  })
}
