import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { jsonOf, recentLimit, shownTimes } from './inspect.ts'
import { fromText } from './opaque.ts'
import { RECENT_SCAN_CAP, stepEntries, stepValue } from './redis-inspect.ts'
import { RedisInstallations } from './redis-installations.ts'
import { RedisQuestions } from './redis-questions.ts'
import { ENDED_RUN_TTL_MS, SCRIPTS, type Scripts } from './redis-scripts.ts'

export { ENDED_RUN_TTL_MS }

import type {
  DeliveredView,
  FinishDetails,
  GivenAnswer,
  LimitSpec,
  NewQuestion,
  NewRun,
  QuestionRecord,
  RecentFilter,
  ReplyTarget,
  RunRecord,
  RunStatus,
  RunStore,
  RunSummary,
  StepEntry,
  StepOutcome,
  StoredDecision,
  Take,
} from './types.ts'

export interface RedisStoreOptions {
  /** A client the caller owns (left open by `close()`), or a `redis://` URL the store connects to. */
  redis: Redis | string
  /** Every key starts with `${prefix}:` (CHORUS_REDIS_PREFIX). */
  prefix: string
}

/** Ended runs deleted per prune script, so one call never blocks Redis for long. */
const PRUNE_BATCH = 500

/**
 * The run store on Redis (with REDIS_URL). A run is a hash; `running` (by createdAt) and `ended`
 * (by updatedAt) sorted sets index it; steps are a hash per run keyed `call:step`, questions another
 * (redis-questions.ts). Every method is one command or one Lua script (EVALSHA through ioredis'
 * `defineCommand`), so each is atomic.
 */
export class RedisStore implements RunStore {
  readonly describe: string
  readonly #redis: Redis
  readonly #owned: boolean
  readonly #scripts: Scripts
  readonly #prefix: string
  readonly #questions: RedisQuestions
  readonly #installations: RedisInstallations

  constructor(options: RedisStoreOptions) {
    this.#owned = typeof options.redis === 'string'
    this.#redis = typeof options.redis === 'string' ? new Redis(options.redis) : options.redis
    this.#prefix = options.prefix
    this.describe = `redis:${options.prefix}`
    for (const [name, definition] of Object.entries(SCRIPTS)) this.#redis.defineCommand(name, definition)
    const client = this.#redis as unknown as Scripts
    this.#scripts = Object.fromEntries(
      Object.keys(SCRIPTS).map((name) => [name, client[name as keyof Scripts].bind(client)]),
    ) as Scripts
    this.#questions = new RedisQuestions(this.#redis, this.#scripts, (id) => this.#run(id))
    this.#installations = new RedisInstallations(this.#redis, this.#prefix)
  }

  #run(id: string): string {
    return `${this.#prefix}:run:${id}`
  }

  get #running(): string {
    return `${this.#prefix}:runs:running`
  }

  get #ended(): string {
    return `${this.#prefix}:runs:ended`
  }

  async create(run: NewRun): Promise<void> {
    await this.#scripts.chorusStoreCreate(
      this.#run(run.id),
      this.#running,
      run.id,
      run.command,
      JSON.stringify(run.input),
      run.user,
      JSON.stringify(run.target),
      run.createdAt,
      Date.now(),
      run.userId === undefined ? '0' : `1${run.userId}`,
      run.traceparent ?? '',
    )
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const hash = await this.#redis.hgetall(this.#run(id))
    return hash.id === undefined ? undefined : toRecord(hash)
  }

  async unfinished(): Promise<RunRecord[]> {
    const hashes = (await this.#scripts.chorusStoreUnfinished(this.#running, this.#run(''))) as string[][]
    return hashes.map((flat) => toRecord(fromPairs(flat)))
  }

  async recordStep(runId: string, outcome: StepOutcome): Promise<void> {
    const steps = `${this.#run(runId)}:steps`
    const field = `${outcome.call}:${outcome.step}`
    // One command: the first success of a call stays; a failure is kept apart (`!` field), so a
    // success replaces it and it never replaces a success. An ended run's steps hash always exists
    // with its TTL (finish sees to it), which a late write keeps.
    // The timing rides in the value (redis-inspect.ts), so the inspector costs no command here.
    const value = stepValue(outcome, outcome.timing)
    if (outcome.ok) await this.#redis.hsetnx(steps, field, value)
    else await this.#redis.hset(steps, `!${field}`, value)
  }

  async runSteps(runId: string): Promise<StepEntry[]> {
    return stepEntries(await this.#redis.hgetall(`${this.#run(runId)}:steps`))
  }

  /** From the indexes the runs are in anyway (running, and ended until pruned): no write per run. */
  async recent(options: { limit: number; filter?: RecentFilter }): Promise<RunRecord[]> {
    const limit = recentLimit(options.limit)
    if (limit === 0) return []
    const f = options.filter ?? {}
    const hashes = (await this.#scripts.chorusStoreRecent(
      this.#running,
      this.#ended,
      this.#run(''),
      limit,
      f.command ?? '',
      f.status ?? '',
      f.platform ?? '',
      RECENT_SCAN_CAP,
    )) as string[][]
    const runs = hashes.map((flat) => toRecord(fromPairs(flat)))
    return runs.sort((a, b) => b.createdAt - a.createdAt).slice(0, limit)
  }

  async rate(runId: string, rating: 'up' | 'down'): Promise<void> {
    await this.#scripts.chorusStoreRate(this.#run(runId), rating)
  }

  async completedSteps(runId: string): Promise<Array<{ step: string; call: number; value: unknown }>> {
    const hash = await this.#redis.hgetall(`${this.#run(runId)}:steps`)
    const steps: Array<{ step: string; call: number; value: unknown }> = []
    for (const [field, value] of Object.entries(hash)) {
      // Failures (`!` fields; a '0' value before they moved apart) and finish's `_` are no steps.
      if (!value.startsWith('1') || field.startsWith('!')) continue
      const colon = field.indexOf(':')
      steps.push({
        step: field.slice(colon + 1),
        call: Number(field.slice(0, colon)),
        value: fromText(value.slice(1)),
      })
    }
    // The same order as the SQLite store: by call, then step.
    return steps.sort((a, b) => a.call - b.call || (a.step < b.step ? -1 : a.step > b.step ? 1 : 0))
  }

  async setTarget(runId: string, target: ReplyTarget): Promise<void> {
    const run = this.#run(runId)
    await this.#scripts.chorusStoreTarget(
      run,
      `${run}:steps`,
      this.#ended,
      `${run}:questions`,
      JSON.stringify(target),
      Date.now(),
      runId,
      ENDED_RUN_TTL_MS,
    )
  }

  async markDelivered(runId: string, view: DeliveredView, target?: ReplyTarget): Promise<void> {
    const run = this.#run(runId)
    await this.#scripts.chorusStoreDelivered(
      run,
      `${run}:steps`,
      this.#ended,
      `${run}:questions`,
      view,
      Date.now(),
      runId,
      ENDED_RUN_TTL_MS,
      target === undefined ? '' : JSON.stringify(target),
    )
  }

  async finish(
    runId: string,
    status: Exclude<RunStatus, 'running'>,
    details: FinishDetails = {},
  ): Promise<boolean> {
    const run = this.#run(runId)
    const changed = await this.#scripts.chorusStoreFinish(
      run,
      `${run}:steps`,
      this.#running,
      this.#ended,
      `${run}:questions`,
      status,
      details.stoppedBy === undefined ? '0' : `1${details.stoppedBy}`,
      details.note === undefined ? '0' : `1${details.note}`,
      Date.now(),
      runId,
      ENDED_RUN_TTL_MS,
      details.summary === undefined ? '0' : `1${JSON.stringify(details.summary)}`,
      details.finalShownAt ?? '',
    )
    return changed === 1
  }

  async prune(before: number): Promise<number> {
    let deleted = 0
    for (;;) {
      const [n, seen] = (await this.#scripts.chorusStorePrune(
        this.#ended,
        before,
        this.#run(''),
        PRUNE_BATCH,
      )) as [number, number]
      deleted += n
      if (seen < PRUNE_BATCH) return deleted
    }
  }

  async park(runId: string, wakes: number, wakeAt: number | undefined): Promise<boolean> {
    return (await this.#scripts.chorusStorePark(this.#run(runId), wakes, wakeAt ?? '', Date.now())) === 1
  }

  async wake(runId: string): Promise<boolean> {
    return (await this.#scripts.chorusStoreWake(this.#run(runId), Date.now())) === 1
  }

  async parkedRuns(): Promise<Array<{ id: string; wakeAt: number | undefined }>> {
    const rows = (await this.#scripts.chorusStoreParkedRuns(this.#running, this.#run(''))) as string[][]
    return rows.map(([id, wakeAt]) => ({ id: id as string, wakeAt: wakeAt ? Number(wakeAt) : undefined }))
  }

  openQuestion(question: NewQuestion): Promise<QuestionRecord> {
    return this.#questions.openQuestion(question)
  }

  question(runId: string, id: string): Promise<QuestionRecord | undefined> {
    return this.#questions.question(runId, id)
  }

  questions(runId: string): Promise<QuestionRecord[]> {
    return this.#questions.questions(runId)
  }

  giveAnswer(runId: string, id: string, answer: GivenAnswer) {
    return this.#questions.giveAnswer(runId, id, answer)
  }

  decide(runId: string, id: string, decision: StoredDecision, version: number) {
    return this.#questions.decide(runId, id, decision, version)
  }

  setQuestionMessage(runId: string, id: string, message: unknown): Promise<void> {
    return this.#questions.setQuestionMessage(runId, id, message)
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.#redis.set(`${this.#prefix}:claim:${key}`, '1', 'PX', ttlMs, 'NX')) === 'OK'
  }

  async take(limits: ReadonlyArray<LimitSpec>, now: number): Promise<Take> {
    if (limits.length === 0) return { ok: true, remaining: [] }
    const args: Array<string | number> = [limits.length]
    for (const l of limits) args.push(`${this.#prefix}:limit:${l.key}`)
    args.push(now, `${now}:${randomUUID()}`)
    for (const l of limits) args.push(l.limit, l.windowMs)
    const [ok, ...rest] = (await this.#scripts.chorusStoreTake(...args)) as number[]
    if (ok === 1) return { ok: true, remaining: rest }
    return { ok: false, refused: rest[0] as number, retryAt: rest[1] as number }
  }

  async spend(key: string, amount: number, ttlMs: number): Promise<number> {
    return Number(await this.#scripts.chorusStoreSpend(`${this.#prefix}:total:${key}`, amount, ttlMs))
  }

  putInstallation(key: string, sealed: string): Promise<void> {
    return this.#installations.putInstallation(key, sealed)
  }

  getInstallation(key: string): Promise<string | undefined> {
    return this.#installations.getInstallation(key)
  }

  deleteInstallation(key: string): Promise<boolean> {
    return this.#installations.deleteInstallation(key)
  }

  lock(key: string, ttlMs: number): Promise<string | undefined> {
    return this.#installations.lock(key, ttlMs)
  }

  unlock(key: string, token: string): Promise<void> {
    return this.#installations.unlock(key, token)
  }

  async close(): Promise<void> {
    if (this.#owned && this.#redis.status !== 'end') await this.#redis.quit()
  }
}

function fromPairs(flat: string[]): Record<string, string> {
  const hash: Record<string, string> = {}
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string
  return hash
}

function toRecord(hash: Record<string, string>): RunRecord {
  return {
    id: hash.id as string,
    command: hash.command as string,
    input: JSON.parse(hash.input as string) as Record<string, unknown>,
    user: hash.user as string,
    target: JSON.parse(hash.target as string) as ReplyTarget,
    createdAt: Number(hash.createdAt),
    status: hash.status as RunStatus,
    updatedAt: Number(hash.updatedAt),
    delivered: (hash.delivered ?? '').split(',').filter((v) => v !== '') as DeliveredView[],
    stoppedBy: hash.stoppedBy,
    note: hash.note,
    parked: hash.parked === '1',
    wakes: Number(hash.wakes ?? 0),
    deliveredAt: shownTimes(hash.shown),
    summary: jsonOf<RunSummary>(hash.summary),
    feedback: { up: Number(hash.up ?? 0), down: Number(hash.down ?? 0) },
    ...(hash.userId === undefined ? {} : { userId: hash.userId }),
    ...(hash.traceparent === undefined ? {} : { traceparent: hash.traceparent }),
  }
}
