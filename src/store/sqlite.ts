import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { jsonOf, recentLimit, shownTimes } from './inspect.ts'
import { fromText, toText } from './opaque.ts'
import { immediately, openJournal } from './sqlite-db.ts'
import { SqliteInstallations } from './sqlite-installations.ts'
import { SqliteQuestions } from './sqlite-questions.ts'
import {
  type DeliveredView,
  type FinishDetails,
  type GivenAnswer,
  type LimitSpec,
  MAX_LIMIT_WINDOW_MS,
  type NewQuestion,
  type NewRun,
  type QuestionRecord,
  type RecentFilter,
  type ReplyTarget,
  type RunRecord,
  type RunStatus,
  type RunStore,
  type RunSummary,
  type StepEntry,
  type StepOutcome,
  type StepTiming,
  type StoredDecision,
  type Take,
} from './types.ts'

interface RunRow {
  id: string
  command: string
  input: string
  user: string
  target: string
  status: RunStatus
  created_at: number
  updated_at: number
  delivered: string
  stopped_by: string | null
  note: string | null
  user_id: string | null
  parked: number
  wakes: number
  shown: string
  summary: string | null
  up: number
  down: number
  traceparent: string | null
}

/**
 * The run store in one SQLite file (Node's built-in `node:sqlite`), in WAL mode: a write is a few
 * microseconds and survives a crash of the process (`synchronous = NORMAL` can lose the last writes
 * only to a power cut or an OS crash). Every statement is synchronous, so it has happened by the
 * time the returned promise exists.
 */
export class SqliteStore implements RunStore {
  readonly describe: string
  readonly #db: DatabaseSync
  readonly #q: ReturnType<typeof statements>
  readonly #questions: SqliteQuestions
  readonly #installations: SqliteInstallations

  /** Opens (creating if needed) the journal at `file`; `:memory:` keeps it in this process. */
  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true })
    this.describe = `sqlite:${file}`
    this.#db = openJournal(file)
    this.#q = statements(this.#db)
    this.#questions = new SqliteQuestions(this.#db)
    this.#installations = new SqliteInstallations(this.#db)
  }

  /** Writes and removes a row, so a read-only folder or a full disk shows before any command arrives. */
  probeWrite(): void {
    this.#db.exec(
      "INSERT OR REPLACE INTO claims VALUES ('write-probe', 0); DELETE FROM claims WHERE key = 'write-probe';",
    )
  }

  async create(run: NewRun): Promise<void> {
    this.#q.create.run(
      run.id,
      run.command,
      JSON.stringify(run.input),
      run.user,
      run.userId ?? null,
      JSON.stringify(run.target),
      run.createdAt,
      Date.now(),
      run.traceparent ?? null,
    )
  }

  async get(id: string): Promise<RunRecord | undefined> {
    const row = this.#q.get.get(id) as RunRow | undefined
    return row === undefined ? undefined : toRecord(row)
  }

  async unfinished(): Promise<RunRecord[]> {
    return (this.#q.unfinished.all() as unknown as RunRow[]).map(toRecord)
  }

  async recordStep(runId: string, outcome: StepOutcome): Promise<void> {
    const value = outcome.ok ? toText(outcome.value) : outcome.error
    const timing = outcome.timing === undefined ? null : JSON.stringify(outcome.timing)
    this.#q.step.run(runId, outcome.step, outcome.call, outcome.ok ? 1 : 0, value, timing)
  }

  async runSteps(runId: string): Promise<StepEntry[]> {
    type Row = { step: string; call: number; ok: number; value: string; timing: string | null }
    return (this.#q.allSteps.all(runId) as unknown as Row[]).map((r) => {
      const timing = jsonOf<StepTiming>(r.timing)
      const at = timing === undefined ? {} : { timing }
      return r.ok === 1
        ? { step: r.step, call: r.call, ok: true as const, value: fromText(r.value), ...at }
        : { step: r.step, call: r.call, ok: false as const, error: r.value, ...at }
    })
  }

  async recent(options: { limit: number; filter?: RecentFilter }): Promise<RunRecord[]> {
    const f = options.filter ?? {}
    const rows = this.#q.recent.all({
      command: f.command ?? null,
      status: f.status ?? null,
      platform: f.platform ?? null,
      limit: recentLimit(options.limit),
    }) as unknown as RunRow[]
    return rows.map(toRecord)
  }

  async rate(runId: string, rating: 'up' | 'down'): Promise<void> {
    ;(rating === 'up' ? this.#q.rateUp : this.#q.rateDown).run(runId)
  }

  async completedSteps(runId: string): Promise<Array<{ step: string; call: number; value: unknown }>> {
    const rows = this.#q.steps.all(runId) as unknown as Array<{ step: string; call: number; value: string }>
    return rows.map((r) => ({ step: r.step, call: r.call, value: fromText(r.value) }))
  }

  async setTarget(runId: string, target: ReplyTarget): Promise<void> {
    this.#q.target.run(JSON.stringify(target), Date.now(), runId)
  }

  async markDelivered(runId: string, view: DeliveredView, target?: ReplyTarget): Promise<void> {
    const now = Date.now()
    const json = target === undefined ? null : JSON.stringify(target)
    this.#q.delivered.run({ view, shown: `${view}:${now},`, now, id: runId, target: json })
  }

  async finish(runId: string, status: Exclude<RunStatus, 'running'>, details: FinishDetails = {}) {
    const summary = details.summary === undefined ? null : JSON.stringify(details.summary)
    const { stoppedBy, note, finalShownAt: at } = details
    const end = () => this.#q.finish.run(status, stoppedBy ?? null, note ?? null, summary, Date.now(), runId)
    if (at === undefined) return Number(end().changes) > 0
    const shown = `final:${at},`
    const r = immediately(this.#db, () => {
      this.#q.delivered.run({ view: 'final', shown, now: Date.now(), id: runId, target: null })
      return end()
    })
    return Number(r.changes) > 0
  }

  async prune(before: number): Promise<number> {
    const r = immediately(this.#db, () => {
      this.#q.pruneSteps.run(before)
      this.#questions.prune(before)
      return this.#q.pruneRuns.run(before)
    })
    this.#q.pruneClaims.run(Date.now())
    this.#q.pruneUses.run(Date.now() - MAX_LIMIT_WINDOW_MS)
    this.#q.pruneTotals.run(Date.now())
    return Number(r?.changes ?? 0)
  }

  async park(runId: string, wakes: number, wakeAt: number | undefined): Promise<boolean> {
    return Number(this.#q.park.run(wakeAt ?? null, Date.now(), runId, wakes).changes) > 0
  }

  async wake(runId: string): Promise<boolean> {
    return immediately(this.#db, () => {
      const row = this.#q.parked.get(runId) as { parked: number } | undefined
      if (row === undefined) return false
      this.#q.wake.run(Date.now(), runId)
      return row.parked === 1
    })
  }

  async parkedRuns(): Promise<Array<{ id: string; wakeAt: number | undefined }>> {
    const rows = this.#q.parkedRuns.all() as Array<{ id: string; wake_at: number | null }>
    return rows.map((r) => ({ id: r.id, wakeAt: r.wake_at ?? undefined }))
  }

  // The Questions role is its own object's (sqlite-questions.ts).
  readonly openQuestion = (question: NewQuestion): Promise<QuestionRecord> =>
    this.#questions.openQuestion(question)
  readonly question = (runId: string, id: string): Promise<QuestionRecord | undefined> =>
    this.#questions.question(runId, id)
  readonly questions = (runId: string): Promise<QuestionRecord[]> => this.#questions.questions(runId)
  readonly giveAnswer = (runId: string, id: string, answer: GivenAnswer) =>
    this.#questions.giveAnswer(runId, id, answer)
  readonly decide = (runId: string, id: string, decision: StoredDecision, version: number) =>
    this.#questions.decide(runId, id, decision, version)
  readonly setQuestionMessage = (runId: string, id: string, message: unknown): Promise<void> =>
    this.#questions.setQuestionMessage(runId, id, message)

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now()
    const r = this.#q.claim.run(key, now + ttlMs, now)
    return Number(r?.changes ?? 0) > 0
  }

  async take(limits: ReadonlyArray<LimitSpec>, now: number): Promise<Take> {
    return immediately(this.#db, (): Take => {
      const remaining: number[] = []
      for (const [i, l] of limits.entries()) {
        this.#q.expireUses.run(l.key, now - l.windowMs)
        const { n } = this.#q.countUses.get(l.key) as { n: number }
        if (n >= l.limit) {
          // Free again once enough of the oldest uses have left the window to drop below the limit.
          const { at } = this.#q.nthUse.get(l.key, n - l.limit) as { at: number }
          return { ok: false, refused: i, retryAt: at + l.windowMs }
        }
        remaining.push(l.limit - n - 1)
      }
      for (const l of limits) this.#q.addUse.run(l.key, now)
      return { ok: true, remaining }
    })
  }

  async spend(key: string, amount: number, ttlMs: number): Promise<number> {
    const now = Date.now()
    const row = this.#q.spend.get(key, amount, now + ttlMs, now, now) as { total: number }
    return row.total
  }

  // The Installations role (and its locks) is its own object's (sqlite-installations.ts).
  readonly putInstallation = (key: string, sealed: string): Promise<void> =>
    this.#installations.putInstallation(key, sealed)
  readonly getInstallation = (key: string): Promise<string | undefined> =>
    this.#installations.getInstallation(key)
  readonly deleteInstallation = (key: string): Promise<boolean> => this.#installations.deleteInstallation(key)
  readonly lock = (key: string, ttlMs: number): Promise<string | undefined> =>
    this.#installations.lock(key, ttlMs)
  readonly unlock = (key: string, token: string): Promise<void> => this.#installations.unlock(key, token)

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close()
  }
}

function statements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql)
  return {
    create: p(
      `INSERT INTO runs (id, command, input, user, user_id, target, status, created_at, updated_at, traceparent)
         VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    ),
    get: p('SELECT * FROM runs WHERE id = ?'),
    unfinished: p(`SELECT * FROM runs WHERE status = 'running' AND parked = 0 ORDER BY created_at`),
    step: p(
      `INSERT INTO steps (run_id, step, call, ok, value, timing) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, step, call) DO UPDATE SET ok = excluded.ok, value = excluded.value,
           timing = excluded.timing
         WHERE steps.ok = 0`,
    ),
    steps: p('SELECT step, call, value FROM steps WHERE run_id = ? AND ok = 1 ORDER BY call, step'),
    allSteps: p('SELECT step, call, ok, value, timing FROM steps WHERE run_id = ? ORDER BY call, step'),
    recent: p(
      `SELECT * FROM runs WHERE ($command IS NULL OR command = $command)
         AND ($status IS NULL OR status = $status)
         AND ($platform IS NULL OR json_extract(target, '$.platform') = $platform)
         ORDER BY created_at DESC LIMIT $limit`,
    ),
    rateUp: p('UPDATE runs SET up = up + 1 WHERE id = ?'),
    rateDown: p('UPDATE runs SET down = down + 1 WHERE id = ?'),
    target: p('UPDATE runs SET target = ?, updated_at = ? WHERE id = ?'),
    // A view once (its time kept in `shown`); the target it was shown with, when given, in the same write.
    delivered: p(
      `UPDATE runs SET target = coalesce($target, target),
         delivered = iif(instr(delivered, $view || ','), delivered, delivered || $view || ','),
         shown = iif(instr(delivered, $view || ','), shown, shown || $shown), updated_at = $now
         WHERE id = $id AND ($target IS NOT NULL OR instr(delivered, $view || ',') = 0)`,
    ),
    finish: p(
      `UPDATE runs SET status = ?, stopped_by = ?, note = ?, summary = ?, updated_at = ?, parked = 0,
         wake_at = NULL
         WHERE id = ? AND status = 'running'`,
    ),
    park: p(
      `UPDATE runs SET parked = 1, wake_at = ?, updated_at = ?
         WHERE id = ? AND status = 'running' AND wakes = ?`,
    ),
    parked: p(`SELECT parked FROM runs WHERE id = ? AND status = 'running'`),
    wake: p('UPDATE runs SET wakes = wakes + 1, parked = 0, wake_at = NULL, updated_at = ? WHERE id = ?'),
    parkedRuns: p(`SELECT id, wake_at FROM runs WHERE status = 'running' AND parked = 1 ORDER BY created_at`),
    pruneSteps: p(
      `DELETE FROM steps WHERE run_id IN
           (SELECT id FROM runs WHERE status != 'running' AND updated_at < ?)`,
    ),
    pruneRuns: p(`DELETE FROM runs WHERE status != 'running' AND updated_at < ?`),
    pruneClaims: p('DELETE FROM claims WHERE expires_at <= ?'),
    expireUses: p('DELETE FROM limit_uses WHERE key = ? AND at <= ?'),
    countUses: p('SELECT count(*) AS n FROM limit_uses WHERE key = ?'),
    nthUse: p('SELECT at FROM limit_uses WHERE key = ? ORDER BY at LIMIT 1 OFFSET ?'),
    addUse: p('INSERT INTO limit_uses (key, at) VALUES (?, ?)'),
    pruneUses: p('DELETE FROM limit_uses WHERE at < ?'),
    spend: p(
      `INSERT INTO totals (key, total, expires_at) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET
           total = CASE WHEN totals.expires_at <= ? THEN excluded.total ELSE totals.total + excluded.total END,
           expires_at = CASE WHEN totals.expires_at <= ? THEN excluded.expires_at ELSE totals.expires_at END
         RETURNING total`,
    ),
    pruneTotals: p('DELETE FROM totals WHERE expires_at <= ?'),
    claim: p(
      `INSERT INTO claims (key, expires_at) VALUES (?, ?)
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at <= ?`,
    ),
  }
}

function toRecord(row: RunRow): RunRecord {
  return {
    id: row.id,
    command: row.command,
    input: JSON.parse(row.input) as Record<string, unknown>,
    user: row.user,
    target: JSON.parse(row.target) as ReplyTarget,
    createdAt: row.created_at,
    status: row.status,
    updatedAt: row.updated_at,
    delivered: row.delivered.split(',').filter((v) => v !== '') as DeliveredView[],
    stoppedBy: row.stopped_by ?? undefined,
    note: row.note ?? undefined,
    parked: row.parked === 1,
    wakes: row.wakes,
    deliveredAt: shownTimes(row.shown),
    summary: jsonOf<RunSummary>(row.summary),
    feedback: { up: row.up, down: row.down },
    ...(row.user_id === null ? {} : { userId: row.user_id }),
    ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
  }
}
