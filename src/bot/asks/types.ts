/**
 * Questions as the bot journals and shows them: plain data (`QuestionSpec` is kept with the question,
 * `QuestionView` is what adapters render), and what a click or a form submission comes to.
 */

/** Who may answer, resolved when the question was asked. */
export type WhoSpec =
  /** The person who ran the command: their platform user id and name. */
  | { kind: 'requester'; user: string; name: string }
  | { kind: 'anyone' }
  /** These platform user ids. */
  | { kind: 'users'; users: string[] }

/** One field of a form question (a text input in a modal). */
export interface FormField {
  name: string
  label: string
  /** A paragraph input rather than one line. */
  multiline: boolean
  required: boolean
  minLength?: number
  maxLength?: number
  placeholder?: string
  /** The flow's own messages for a failed check (`invalid_format`, `too_small`, `too_big`), where it gave them. */
  messages?: Record<string, string>
}

/** A question as journaled: everything a receiver needs to render it, check who answers and decide it. */
export interface QuestionSpec {
  /** Markdown. */
  prompt: string
  who: WhoSpec
  choices: Array<{ value: string; label: string }> | undefined
  /** The form's fields and its JSON Schema (z.toJSONSchema of the step's zod object): receivers check with it. */
  form: { title: string; fields: FormField[]; schema: Record<string, unknown> } | undefined
  /** undefined: the first answer decides. */
  collect: { agree?: number; answers?: number } | undefined
  onTimeout: { value: unknown } | undefined
}

/** What a question's message shows at one moment. Adapters render it; the core decides when. */
export interface QuestionView {
  runId: string
  /** Short, stable key of the question within its run (8 characters): buttons and modals carry it. */
  key: string
  prompt: string
  who: WhoSpec
  /** Choice questions: each choice with its count so far (for collections, shown as the live tally). */
  choices: Array<{ value: string; label: string; count: number }> | undefined
  /** Form questions: the modal's title and fields. */
  form: { title: string; fields: FormField[] } | undefined
  /** A collection (a vote): shows its tally, its rule, and who answered. */
  collect: { agree?: number; answers?: number } | undefined
  /** How many people have answered so far. */
  answered: number
  /** When it closes (ms since epoch). */
  deadlineAt: number
  /**
   * `open`: buttons shown. `decided`: the outcome, no buttons. `closed`: no decision (none or a tie,
   * no default), or withdrawn (the run stopped or no longer needs it); `outcome` says which.
   */
  state: 'open' | 'decided' | 'closed'
  /** Once not open: one line saying how it ended, e.g. "Decided: **Ship it** (3 of 4 votes), by Ana". */
  outcome?: string
}

/** A click or a form submission on a question's message, as an adapter passes it to `Bot.answer`. */
export interface AnswerRequest {
  runId: string
  /** The question's `key`, from the button or modal. */
  key: string
  /** The platform user id, and the name to show in tallies and "decided by". */
  user: { id: string; name: string }
  /** A choice's index in `QuestionView.choices`, or a form's raw field values. */
  answer: { choice: number } | { form: Record<string, string> }
  platform: 'slack' | 'discord' | 'console'
}

export type AnswerOutcome =
  /** Counted; the question stays open. `view` carries the new tally: edit the message with it. */
  | { kind: 'counted'; view: QuestionView; message: string }
  /** This answer decided it. Edit the message with `view` (no buttons). */
  | { kind: 'decided'; view: QuestionView; message: string }
  /**
   * Nothing changed: not among those asked ("only @x can answer this"), already decided ("already
   * decided by @x"), closed, or unknown. Say `message` to that person only; `view`, when given, is the
   * question as it is now (edit a stale message with it).
   */
  | { kind: 'refused'; message: string; view?: QuestionView }
  /** A form's values did not pass its checks: per-field reasons; the question stays open. */
  | { kind: 'invalid'; message: string; errors: Record<string, string> }

/** What `Bot.question` tells an adapter about to open a form: the view, or why this person may not answer. */
export type QuestionLookup =
  | { ok: true; view: QuestionView }
  | { ok: false; message: string; view?: QuestionView }

/** An adapter cannot post or edit a question (no permission, the window closed): the ask fails with `message`. */
export class CannotAskError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CannotAskError'
  }
}
