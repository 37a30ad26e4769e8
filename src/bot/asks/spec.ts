/** From the engine's question to the journaled spec, and from the journaled record to what a message shows. */
import { createHash } from 'node:crypto'
import { z } from 'zod'
import type { Question } from '../../engine/index.ts'
import type { QuestionRecord, StoredDecision } from '../../store/index.ts'
import type { FormField, QuestionSpec, QuestionView, WhoSpec } from './types.ts'

/** A question's short key within its run: buttons and modal ids carry it (Discord allows 100 characters). */
export function questionKey(id: string): string {
  return createHash('sha256').update(id).digest('base64url').slice(0, 8)
}

/** The journaled spec of `question`, asked in a run that `requester` started. */
export function specOf(question: Question, requester: { id: string; name: string }): QuestionSpec {
  const { who } = question
  const spec: WhoSpec =
    who === 'anyone'
      ? { kind: 'anyone' }
      : who === 'requester'
        ? { kind: 'requester', user: requester.id, name: requester.name }
        : { kind: 'users', users: [...who.users] }
  return {
    prompt: question.prompt,
    who: spec,
    choices: question.choices,
    form:
      question.form === undefined
        ? undefined
        : { title: question.form.title, ...formOf(question.form.schema) },
    collect: question.collect,
    onTimeout: question.onTimeout,
  }
}

/** A form's fields and JSON Schema, from its zod object (labels from `.describe()`). */
function formOf(schema: z.ZodObject): { fields: FormField[]; schema: Record<string, unknown> } {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<
      string,
      { description?: string; minLength?: number; maxLength?: number; title?: string }
    >
    required?: string[]
  }
  const required = new Set(json.required ?? [])
  const fields = Object.entries(json.properties ?? {}).map(([name, p]): FormField => {
    const maxLength = Math.min(p.maxLength ?? 4000, 4000)
    const messages = messagesOf(schema.shape[name])
    return {
      ...(messages === undefined ? {} : { messages }),
      name,
      label: (p.description ?? p.title ?? name).slice(0, 45),
      multiline: maxLength > 200,
      required: required.has(name),
      ...(p.minLength === undefined ? {} : { minLength: p.minLength }),
      maxLength,
    }
  })
  return { fields, schema: json as Record<string, unknown> }
}

/** zod's check kinds, as the issues they raise. */
const ISSUES: Record<string, string> = {
  string_format: 'invalid_format',
  min_length: 'too_small',
  max_length: 'too_big',
  greater_than: 'too_small',
  less_than: 'too_big',
}

type Checked = {
  _zod?: {
    def?: {
      innerType?: Checked
      checks?: Array<{ _zod?: { def?: { check?: string; error?: (issue: object) => unknown } } }>
    }
  }
}

/**
 * The flow's own messages for a field's checks (`.regex(re, 'Use a code like ABC-123')`): JSON
 * Schema keeps the checks but not their words, and a receiver checks with JSON Schema.
 */
function messagesOf(field: unknown): Record<string, string> | undefined {
  let f = field as Checked | undefined
  while (f?._zod?.def?.innerType !== undefined && f._zod.def.checks === undefined) f = f._zod.def.innerType
  const out: Record<string, string> = {}
  for (const check of f?._zod?.def?.checks ?? []) {
    const { check: kind, error } = check._zod?.def ?? {}
    const issue = kind === undefined ? undefined : ISSUES[kind]
    if (issue === undefined || error === undefined) continue
    try {
      const message = error({})
      if (typeof message === 'string') out[issue] ??= message
    } catch {
      // A message built from the issue itself: zod's own words will do.
    }
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/** The question as its message shows it now. */
export function viewOf(record: QuestionRecord): QuestionView {
  const spec = record.spec as QuestionSpec
  const decision = record.decision
  const answers = decision?.answers ?? record.answers
  const counts = new Map<unknown, number>()
  for (const a of answers) counts.set(a.value, (counts.get(a.value) ?? 0) + 1)
  const choices = spec.choices?.map((c) => ({ ...c, count: counts.get(c.value) ?? 0 }))
  const state = decision === undefined ? 'open' : decision.ok ? 'decided' : 'closed'
  return {
    runId: record.runId,
    key: questionKey(record.id),
    prompt: spec.prompt,
    who: spec.who,
    choices,
    form: spec.form === undefined ? undefined : { title: spec.form.title, fields: spec.form.fields },
    collect: spec.collect,
    answered: answers.length,
    deadlineAt: record.deadlineAt,
    state,
    ...(decision === undefined ? {} : { outcome: outcomeText(spec, decision, record) }),
  }
}

/** One line saying how a question ended. */
export function outcomeText(spec: QuestionSpec, d: StoredDecision, record: QuestionRecord): string {
  const nameOf = (user: string | undefined): string | undefined =>
    record.answers.find((a) => a.user === user)?.name ?? user
  const by = (user: string | undefined): string => {
    const name = nameOf(user)
    return name === undefined ? '' : ` by ${name}`
  }
  if (d.withdrawn !== undefined) return `Closed: ${d.withdrawn}`
  const votes = d.answers.length
  if (!d.ok) {
    if (votes === 0) return 'Closed: no one answered in time.'
    const top = d.tally[0]?.count ?? 0
    const tied = d.tally.filter((t) => t.count === top && top > 0).map((t) => `**${t.label}**`)
    return tied.length > 1
      ? `Closed without a decision: a tie between ${tied.join(' and ')} (${votes} ${votes === 1 ? 'vote' : 'votes'}).`
      : `Closed without a decision (${votes} ${votes === 1 ? 'answer' : 'answers'}).`
  }
  const label = spec.choices?.find((c) => c.value === d.value)?.label
  if (spec.form !== undefined && d.outcome === 'answered') return `Answered${by(d.by)}.`
  const what = label !== undefined ? `**${label}**` : 'answered'
  const count = d.tally.find((t) => t.value === d.value)?.count
  const share =
    spec.collect !== undefined && count !== undefined
      ? ` (${count} of ${votes} ${votes === 1 ? 'vote' : 'votes'})`
      : ''
  const who = nameOf(d.by)
  switch (d.outcome) {
    case 'timeout':
      return `Time ran out: ${label !== undefined ? `**${label}**` : 'the default'} applies${share}.`
    case 'closed':
      return `Closed at the deadline: ${what}${share}.`
    default:
      return `Decided: ${what}${share}${who === undefined ? '' : `, by ${who}`}.`
  }
}
