import type { Redis } from 'ioredis'
import { fromText, toText } from './opaque.ts'
import { ENDED_RUN_TTL_MS, type Scripts } from './redis-scripts.ts'
import type { GivenAnswer, NewQuestion, QuestionRecord, Questions, StoredDecision } from './types.ts'

type Kind = 'open' | 'version' | 'decision' | 'message' | 'answer'

/** A field of a run's questions hash, as a JSON array: any question or user id stays whole and apart. */
function field(id: string, kind: Kind, user?: string): string {
  return JSON.stringify(user === undefined ? [id, kind] : [id, kind, user])
}

/** What the name of every field of question `id` starts with (the scripts' `record(prefix)`). */
function prefixOf(id: string): string {
  return `${JSON.stringify([id]).slice(0, -1)},`
}

/**
 * Questions on Redis: one hash per run (`<run>:questions`, expiring with the run like its steps), a
 * few fields per question and one per person who answered. Each write is one script, so a decision
 * is taken once however many processes race for it.
 */
export class RedisQuestions implements Questions {
  readonly #redis: Redis
  readonly #scripts: Scripts
  readonly #run: (id: string) => string

  constructor(redis: Redis, scripts: Scripts, runKey: (id: string) => string) {
    this.#redis = redis
    this.#scripts = scripts
    this.#run = runKey
  }

  async openQuestion(q: NewQuestion): Promise<QuestionRecord> {
    const fields = (await this.#scripts.chorusStoreOpenQuestion(
      `${this.#run(q.runId)}:questions`,
      this.#run(q.runId),
      prefixOf(q.id),
      field(q.id, 'open'),
      JSON.stringify({ step: q.step, spec: q.spec, createdAt: q.createdAt, deadlineAt: q.deadlineAt }),
      ENDED_RUN_TTL_MS,
    )) as string[]
    return recordsOf(q.runId, fields)[0] as QuestionRecord
  }

  async question(runId: string, id: string): Promise<QuestionRecord | undefined> {
    return (await this.questions(runId)).find((q) => q.id === id)
  }

  async questions(runId: string): Promise<QuestionRecord[]> {
    const hash = await this.#redis.hgetall(`${this.#run(runId)}:questions`)
    return recordsOf(runId, Object.entries(hash).flat())
  }

  async giveAnswer(
    runId: string,
    id: string,
    answer: GivenAnswer,
  ): Promise<{ ok: boolean; record: QuestionRecord | undefined }> {
    const [ok, fields] = (await this.#scripts.chorusStoreGiveAnswer(
      `${this.#run(runId)}:questions`,
      this.#run(runId),
      prefixOf(id),
      field(id, 'decision'),
      field(id, 'version'),
      field(id, 'answer', answer.user),
      JSON.stringify({ name: answer.name, value: toText(answer.value), at: answer.at }),
      ENDED_RUN_TTL_MS,
    )) as [number, string[]]
    return { ok: ok === 1, record: recordsOf(runId, fields)[0] }
  }

  async decide(
    runId: string,
    id: string,
    decision: StoredDecision,
    version: number,
  ): Promise<{ won: boolean; record: QuestionRecord | undefined }> {
    const [won, fields] = (await this.#scripts.chorusStoreDecide(
      `${this.#run(runId)}:questions`,
      prefixOf(id),
      field(id, 'open'),
      field(id, 'decision'),
      field(id, 'version'),
      version,
      JSON.stringify(decision),
    )) as [number, string[]]
    return { won: won === 1, record: recordsOf(runId, fields)[0] }
  }

  async setQuestionMessage(runId: string, id: string, message: unknown): Promise<void> {
    await this.#scripts.chorusStoreQuestionMessage(
      `${this.#run(runId)}:questions`,
      field(id, 'open'),
      field(id, 'message'),
      toText(message),
    )
  }
}

interface Parts {
  open?: string
  version?: string
  decision?: string
  message?: string
  answers: Array<{ user: string; value: string }>
}

/** The opened questions among a questions hash's fields (name, value, name, value…), in open order. */
function recordsOf(runId: string, flat: string[]): QuestionRecord[] {
  const byId = new Map<string, Parts>()
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string
    if (!name.startsWith('[')) continue // the hash's 'opened' counter
    const [id, kind, user] = JSON.parse(name) as [string, Kind, string?]
    const parts = byId.get(id) ?? { answers: [] }
    byId.set(id, parts)
    const value = flat[i + 1] as string
    if (kind === 'answer') parts.answers.push({ user: user as string, value })
    else parts[kind] = value
  }
  const opened = [...byId].filter((e): e is [string, Parts & { open: string }] => e[1].open !== undefined)
  return opened
    .map(([id, parts]) => ({ seq: Number(before(parts.open)), record: toQuestion(runId, id, parts) }))
    .sort((a, b) => a.seq - b.seq)
    .map((q) => q.record)
}

function toQuestion(runId: string, id: string, parts: Parts & { open: string }): QuestionRecord {
  const open = JSON.parse(after(parts.open)) as Pick<
    QuestionRecord,
    'step' | 'spec' | 'createdAt' | 'deadlineAt'
  >
  const answers = parts.answers
    .map((a) => ({ pos: Number(before(a.value)), user: a.user, ...(JSON.parse(after(a.value)) as Given) }))
    .sort((a, b) => a.pos - b.pos)
  return {
    runId,
    id,
    step: open.step,
    spec: open.spec,
    createdAt: open.createdAt,
    deadlineAt: open.deadlineAt,
    message: parts.message === undefined ? undefined : fromText(parts.message),
    answers: answers.map((a) => ({ user: a.user, name: a.name, value: fromText(a.value), at: a.at })),
    version: Number(parts.version ?? 0),
    decision: parts.decision === undefined ? undefined : (JSON.parse(parts.decision) as StoredDecision),
  }
}

interface Given {
  name: string
  value: string
  at: number
}

/** The number before the first space of an `open` or `answer` field. */
function before(value: string): string {
  return value.slice(0, value.indexOf(' '))
}

function after(value: string): string {
  return value.slice(value.indexOf(' ') + 1)
}
