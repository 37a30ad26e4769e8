import type { DatabaseSync, StatementSync } from 'node:sqlite'
import { fromText, toText } from './opaque.ts'
import { immediately } from './sqlite-db.ts'
import type { GivenAnswer, NewQuestion, QuestionRecord, Questions, StoredDecision } from './types.ts'

interface QuestionRow {
  run_id: string
  id: string
  seq: number | null
  step: string
  spec: string
  created_at: number
  deadline_at: number
  message: string | null
  version: number
  decision: string | null
}

interface AnswerRow {
  question_id: string
  user: string
  name: string
  value: string
  at: number
}

/**
 * Questions in the SQLite journal: a row per (run, question), made by the first of its open and its
 * first answer, and a row per (question, user). Writes that read first hold the file's write lock.
 */
export class SqliteQuestions implements Questions {
  readonly #db: DatabaseSync
  readonly #q: ReturnType<typeof statements>

  constructor(db: DatabaseSync) {
    this.#db = db
    this.#q = statements(db)
  }

  async openQuestion(q: NewQuestion): Promise<QuestionRecord> {
    return immediately(this.#db, () => {
      this.#q.open.run(q.runId, q.id, q.runId, q.step, toText(q.spec), q.createdAt, q.deadlineAt)
      return this.#read(q.runId, q.id) as QuestionRecord
    })
  }

  async question(runId: string, id: string): Promise<QuestionRecord | undefined> {
    return this.#read(runId, id)
  }

  async questions(runId: string): Promise<QuestionRecord[]> {
    const rows = this.#q.opened.all(runId) as unknown as QuestionRow[]
    const answers = this.#q.runAnswers.all(runId) as unknown as AnswerRow[]
    return rows.map((row) =>
      toQuestion(
        row,
        answers.filter((a) => a.question_id === row.id),
      ),
    )
  }

  async giveAnswer(
    runId: string,
    id: string,
    answer: GivenAnswer,
  ): Promise<{ ok: boolean; record: QuestionRecord | undefined }> {
    return immediately(this.#db, () => {
      const row = this.#q.row.get(runId, id) as QuestionRow | undefined
      if (row?.decision != null) return { ok: false, record: this.#read(runId, id) }
      const { version } = this.#q.bump.get(runId, id) as { version: number }
      this.#q.answer.run(runId, id, answer.user, version, answer.name, toText(answer.value), answer.at)
      return { ok: true, record: this.#read(runId, id) }
    })
  }

  async decide(
    runId: string,
    id: string,
    decision: StoredDecision,
    version: number,
  ): Promise<{ won: boolean; record: QuestionRecord | undefined }> {
    return immediately(this.#db, () => {
      const r = this.#q.decide.run(JSON.stringify(decision), runId, id, version)
      return { won: Number(r.changes) > 0, record: this.#read(runId, id) }
    })
  }

  async setQuestionMessage(runId: string, id: string, message: unknown): Promise<void> {
    this.#q.message.run(toText(message), runId, id)
  }

  /** Deletes the questions and answers of the runs `SqliteStore.prune` is about to delete. */
  prune(before: number): void {
    this.#q.pruneAnswers.run(before)
    this.#q.pruneQuestions.run(before)
  }

  #read(runId: string, id: string): QuestionRecord | undefined {
    const row = this.#q.openedOne.get(runId, id) as QuestionRow | undefined
    if (row === undefined) return undefined
    return toQuestion(row, this.#q.answers.all(runId, id) as unknown as AnswerRow[])
  }
}

function statements(db: DatabaseSync) {
  const p = (sql: string): StatementSync => db.prepare(sql)
  const prunedRuns = `(SELECT id FROM runs WHERE status != 'running' AND updated_at < ?)`
  return {
    open: p(
      `INSERT INTO questions (run_id, id, seq, step, spec, created_at, deadline_at)
         VALUES (?, ?, (SELECT coalesce(max(seq), 0) + 1 FROM questions WHERE run_id = ?), ?, ?, ?, ?)
         ON CONFLICT (run_id, id) DO UPDATE SET seq = excluded.seq, step = excluded.step,
           spec = excluded.spec, created_at = excluded.created_at, deadline_at = excluded.deadline_at
         WHERE questions.seq IS NULL`,
    ),
    row: p('SELECT * FROM questions WHERE run_id = ? AND id = ?'),
    openedOne: p('SELECT * FROM questions WHERE run_id = ? AND id = ? AND seq IS NOT NULL'),
    opened: p('SELECT * FROM questions WHERE run_id = ? AND seq IS NOT NULL ORDER BY seq'),
    answers: p('SELECT * FROM answers WHERE run_id = ? AND question_id = ? ORDER BY pos'),
    runAnswers: p('SELECT * FROM answers WHERE run_id = ? ORDER BY pos'),
    bump: p(
      `INSERT INTO questions (run_id, id, version) VALUES (?, ?, 1)
         ON CONFLICT (run_id, id) DO UPDATE SET version = version + 1 RETURNING version`,
    ),
    answer: p(
      `INSERT INTO answers (run_id, question_id, user, pos, name, value, at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (run_id, question_id, user) DO UPDATE SET
           name = excluded.name, value = excluded.value, at = excluded.at`,
    ),
    decide: p(
      `UPDATE questions SET decision = ?
         WHERE run_id = ? AND id = ? AND seq IS NOT NULL AND decision IS NULL AND version = ?`,
    ),
    message: p('UPDATE questions SET message = ? WHERE run_id = ? AND id = ? AND seq IS NOT NULL'),
    pruneAnswers: p(`DELETE FROM answers WHERE run_id IN ${prunedRuns}`),
    pruneQuestions: p(`DELETE FROM questions WHERE run_id IN ${prunedRuns}`),
  }
}

function toQuestion(row: QuestionRow, answers: AnswerRow[]): QuestionRecord {
  return {
    runId: row.run_id,
    id: row.id,
    step: row.step,
    spec: fromText(row.spec),
    createdAt: row.created_at,
    deadlineAt: row.deadline_at,
    message: row.message === null ? undefined : fromText(row.message),
    answers: answers.map((a) => ({ user: a.user, name: a.name, value: fromText(a.value), at: a.at })),
    version: row.version,
    decision: row.decision === null ? undefined : (JSON.parse(row.decision) as StoredDecision),
  }
}
