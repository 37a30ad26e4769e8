/**
 * A click or a form submission, taken by whichever process receives it: checked (who may answer, is
 * it still open, does it fit), kept in the journal, decided exactly once (a claim on the question's
 * version), and the run woken when it decided: queued again if it was parked, told if it is live.
 */
import { z } from 'zod'
import { decide } from '../../engine/index.ts'
import type { GivenAnswer, QuestionRecord, StoredDecision } from '../../store/index.ts'
import type { Runs } from '../runs/runs.ts'
import { questionKey, viewOf } from './spec.ts'
import { notAllowedText } from './text.ts'
import type { AnswerOutcome, AnswerRequest, QuestionLookup, QuestionSpec } from './types.ts'
import { wakeRun } from './wake.ts'

/** A decision races at most this many new answers before it gives up (each retry saw a newer version). */
const DECIDE_TRIES = 20

/** The question `key` of run `runId`, and whether `userId` may answer it (before opening a form). */
export async function lookup(
  runs: Runs,
  runId: string,
  key: string,
  userId: string,
): Promise<QuestionLookup> {
  const record = await find(runs, runId, key)
  if (record === undefined) return { ok: false, message: 'That question is no longer open.' }
  const refused = await refusalOf(runs, record, userId)
  if (refused !== undefined) return refused
  return { ok: true, view: viewOf(record) }
}

/** Takes one answer (see the module comment). */
export async function answer(runs: Runs, req: AnswerRequest): Promise<AnswerOutcome> {
  const record = await find(runs, req.runId, req.key)
  if (record === undefined) return { kind: 'refused', message: 'That question is no longer open.' }
  const refused = await refusalOf(runs, record, req.user.id)
  if (refused !== undefined)
    return { kind: 'refused', message: refused.message, ...(refused.view ? { view: refused.view } : {}) }
  const spec = record.spec as QuestionSpec
  const value = givenValue(spec, req.answer, runs.forms.get(`${record.runId}/${record.id}`))
  if (!value.ok) return value.outcome
  const given: GivenAnswer = { user: req.user.id, name: req.user.name, value: value.value, at: Date.now() }
  const kept = await runs.store.giveAnswer(record.runId, record.id, given)
  if (!kept.ok || kept.record === undefined) return decidedAlready(kept.record ?? record)
  const outcome = await settle(runs, kept.record, req.user.id)
  runs.logger.info(
    {
      event: 'ask.answered',
      runId: record.runId,
      question: record.id,
      user: req.user.id,
      platform: req.platform,
      outcome: outcome.kind,
    },
    'ask.answered',
  )
  if (outcome.kind === 'decided') await wakeRun(runs, record.runId)
  return outcome
}

/** Decides the question if its answers now make a decision; a lost claim reads the record again. */
async function settle(runs: Runs, start: QuestionRecord, user: string): Promise<AnswerOutcome> {
  let record = start
  for (let i = 0; i < DECIDE_TRIES; i++) {
    if (record.decision !== undefined) return decidedAlready(record, user)
    const spec = record.spec as QuestionSpec
    const decision = decide(spec, record.answers, false, user)
    const label = labelOf(spec, record.answers.find((a) => a.user === user)?.value)
    if (decision === undefined) {
      const message =
        spec.collect === undefined
          ? 'Your answer is in.'
          : `Your vote${label === undefined ? '' : ` for ${label}`} is counted; you can change it until the vote closes.`
      return { kind: 'counted', view: viewOf(record), message }
    }
    const claim = await runs.store.decide(
      record.runId,
      record.id,
      { ...decision, at: Date.now() },
      record.version,
    )
    if (claim.record === undefined) break
    if (claim.won) return { kind: 'decided', view: viewOf(claim.record), message: 'Thanks, that decided it.' }
    record = claim.record
  }
  return { kind: 'refused', message: 'Too many answers at once; please try again.' }
}

/** Decides a question its deadline has passed for, once; returns the record after. */
export async function closeAtDeadline(runs: Runs, record: QuestionRecord): Promise<QuestionRecord> {
  let current: QuestionRecord | undefined = record
  for (let i = 0; i < DECIDE_TRIES && current !== undefined && current.decision === undefined; i++) {
    const decision = decide(current.spec as QuestionSpec, current.answers, true) as NonNullable<
      ReturnType<typeof decide>
    >
    const claim = await runs.store.decide(
      current.runId,
      current.id,
      { ...decision, at: Date.now() },
      current.version,
    )
    current = claim.record
  }
  return current ?? record
}

/** Closes an open question without a decision: the run stopped, or its step no longer needs it. */
export async function withdraw(runs: Runs, record: QuestionRecord, why: string): Promise<QuestionRecord> {
  let current: QuestionRecord | undefined = record
  for (let i = 0; i < DECIDE_TRIES && current !== undefined && current.decision === undefined; i++) {
    const d: StoredDecision = {
      ok: false,
      answers: current.answers,
      tally: [],
      at: Date.now(),
      withdrawn: why,
    }
    current = (await runs.store.decide(current.runId, current.id, d, current.version)).record
  }
  return current ?? record
}

async function find(runs: Runs, runId: string, key: string): Promise<QuestionRecord | undefined> {
  const questions = await runs.store.questions(runId)
  return questions.find((q) => questionKey(q.id) === key)
}

/** Why `userId` may not answer now, or undefined. A question past its deadline is closed on the way. */
async function refusalOf(
  runs: Runs,
  record: QuestionRecord,
  userId: string,
): Promise<Extract<QuestionLookup, { ok: false }> | undefined> {
  const spec = record.spec as QuestionSpec
  if (record.decision !== undefined) return decidedAlready(record)
  const run = await runs.store.get(record.runId)
  if (run === undefined || run.status !== 'running') {
    const closed = await withdraw(runs, record, 'the run has ended.')
    return { ok: false, message: 'That run has ended; the question is closed.', view: viewOf(closed) }
  }
  if (Date.now() >= record.deadlineAt) {
    const closed = await closeAtDeadline(runs, record)
    await wakeRun(runs, record.runId)
    return { ok: false, message: 'That question has closed.', view: viewOf(closed) }
  }
  const who = spec.who
  const allowed =
    who.kind === 'anyone' || (who.kind === 'requester' ? who.user === userId : who.users.includes(userId))
  if (!allowed) return { ok: false, message: notAllowedText(who, (id) => `<@${id}>`) }
  return undefined
}

function decidedAlready(
  record: QuestionRecord,
  user?: string,
): Extract<AnswerOutcome, { kind: 'refused' }> & { ok: false } {
  const d = record.decision
  const decidedBy = d?.ok === true ? d.by : undefined
  const by =
    decidedBy === undefined
      ? undefined
      : (record.answers.find((a) => a.user === decidedBy)?.name ?? decidedBy)
  const message =
    d?.withdrawn !== undefined
      ? 'That question is closed.'
      : decidedBy === user && user !== undefined
        ? 'That is already decided.'
        : by !== undefined
          ? `Already decided by ${by}.`
          : 'That question is already closed.'
  return { ok: false, kind: 'refused', message, view: viewOf(record) }
}

/** The answer's value: a choice's, or the form's fields checked against its schema. */
function givenValue(
  spec: QuestionSpec,
  given: AnswerRequest['answer'],
  live: z.ZodType | undefined,
): { ok: true; value: unknown } | { ok: false; outcome: AnswerOutcome } {
  if ('choice' in given) {
    const choice = spec.choices?.[given.choice]
    if (choice === undefined)
      return { ok: false, outcome: { kind: 'refused', message: 'That is not one of the choices.' } }
    return { ok: true, value: choice.value }
  }
  if (spec.form === undefined)
    return { ok: false, outcome: { kind: 'refused', message: 'That question takes a choice, not a form.' } }
  // Empty optional fields are left out, as the form's schema expects of a field not given.
  const values = Object.fromEntries(Object.entries(given.form).filter(([, v]) => v.trim() !== ''))
  const parsed = (live ?? formSchema(spec)).safeParse(values)
  if (parsed.success) return { ok: true, value: values }
  const errors: Record<string, string> = {}
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? spec.form.fields[0]?.name ?? 'form')
    const own = spec.form.fields.find((f) => f.name === field)?.messages?.[issue.code]
    errors[field] ??= live === undefined ? (own ?? plain(issue)) : issue.message
  }
  const message = Object.entries(errors)
    .map(([f, m]) => `${spec.form?.fields.find((x) => x.name === f)?.label ?? f}: ${m}`)
    .join('\n')
  return { ok: false, outcome: { kind: 'invalid', message, errors } }
}

const schemas = new WeakMap<object, z.ZodType>()

/** The form's checks, rebuilt from its JSON Schema (the step's zod object, as journaled). */
function formSchema(spec: QuestionSpec): z.ZodType {
  const json = spec.form?.schema as object
  let schema = schemas.get(json)
  if (schema === undefined) {
    schema = z.fromJSONSchema(json as Parameters<typeof z.fromJSONSchema>[0])
    schemas.set(json, schema)
  }
  return schema
}

function labelOf(spec: QuestionSpec, value: unknown): string | undefined {
  return spec.choices?.find((c) => c.value === value)?.label
}

/** A zod issue from the JSON-Schema checks in words a person filling a form reads (zod's are for developers). */
function plain(issue: z.core.$ZodIssue): string {
  const i = issue as {
    code: string
    minimum?: number | bigint
    maximum?: number | bigint
    origin?: string
    input?: unknown
  }
  const text = i.origin === 'string'
  if (i.code === 'invalid_type' && i.input === undefined) return 'This field is required.'
  if (i.code === 'too_small' && text) return `Use at least ${i.minimum} characters.`
  if (i.code === 'too_big' && text) return `Use at most ${i.maximum} characters.`
  if (i.code === 'too_small') return `Use a value of at least ${i.minimum}.`
  if (i.code === 'too_big') return `Use a value of at most ${i.maximum}.`
  if (i.code === 'invalid_format') return 'That is not in the form this field expects.'
  return issue.message
}
