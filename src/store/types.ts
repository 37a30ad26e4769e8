import type { Decision } from '../engine/tally.ts'
/** Where a run's reply lives, as plain data: any process can rebuild a sink from it. */
export type ReplyTarget = SlackTarget | DiscordTarget

export interface SlackTarget {
  platform: 'slack'
  /** Workspace, for budgets and logs. */
  teamId?: string
  /** The Enterprise Grid org, when there is one: an org-wide install's token is found by it. */
  enterpriseId?: string
  channel: string
  /** Set when the reply belongs in a thread (app mentions, Retry from a threaded reply). */
  threadTs?: string
  /** The reply message, once the placeholder is posted. */
  ts?: string
  /** The command's response_url: ephemeral notes, and the reply itself where the bot may not post. */
  responseUrl?: string
  /** True once the reply goes through `responseUrl` (the bot may not post in the channel). */
  viaResponseUrl?: boolean
  /** True once a reply was posted through `responseUrl`; later ones replace it. */
  responseShown?: boolean
}

export interface DiscordTarget {
  platform: 'discord'
  applicationId: string
  interactionId: string
  /** The interaction token: valid for 15 minutes from `createdAt`. */
  token: string
  /** When Discord created the interaction (ms since epoch, from its snowflake). */
  createdAt: number
  /** The original response's message id, once it exists. */
  messageId?: string
  /** The guild the command came from (none in DMs), for budgets. */
  guildId?: string
  /** The channel the command came from: where the bot edits the reply once the token has expired. */
  channelId?: string
}

export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped' | 'abandoned'

/** The views of a reply that reached the user; each is shown at most once per run. */
export type DeliveredView = 'placeholder' | 'first' | 'final'

export interface NewRun {
  id: string
  /** The command (= flow) name. */
  command: string
  /** The validated flow input. */
  input: Record<string, unknown>
  /** Who ran it, as shown (a name). */
  user: string
  /** Who ran it, as the platform knows them (a user id): who `who: 'requester'` questions may answer. */
  userId?: string
  target: ReplyTarget
  createdAt: number
  /** The W3C trace context of the run's trace, when tracing is on (the inspector links to the trace). */
  traceparent?: string | undefined
}

export interface RunRecord extends NewRun {
  status: RunStatus
  updatedAt: number
  delivered: DeliveredView[]
  /** Who pressed Stop, for stopped runs. */
  stoppedBy: string | undefined
  /** User-safe note for failed and abandoned runs. */
  note: string | undefined
  /** True while the run waits for people only: no process works it until `wake`. */
  parked: boolean
  /** How many times an answer or a deadline woke it (see `park`). */
  wakes: number
  /** When each delivered view reached the user (ms since epoch), for the inspector. */
  deliveredAt: Partial<Record<DeliveredView, number>>
  /** What the run spent and how its steps that left no outcome ended, from `finish`. */
  summary: RunSummary | undefined
  /** 👍 and 👎 counted on its reply (once per person and rating). */
  feedback: { up: number; down: number }
}

/** When a step call ran, for the inspector's waterfall (times in ms since epoch). */
export interface StepTiming {
  startedAt: number
  /** When the model wrote its first words, for steps that stream. */
  firstTokenAt?: number | undefined
  finishedAt: number
  /** Of the time from start to finish, how long its model calls waited for a limiter slot. */
  queuedMs: number
  /** Tries made (1 when it was not retried). */
  attempts: number
  /** Why each retry happened (error codes), in order. */
  retries?: string[] | undefined
  /** Set when the step was cancelled (the run stopped, the step was no longer needed): why. */
  cancelled?: string | undefined
}

/** A run's totals, written with its end (`finish`). */
export interface RunSummary {
  /** When this process began working it (ms since epoch). */
  startedAt?: number | undefined
  calls: number
  tokens: number
  promptTokens: number
  completionTokens: number
  /** Estimated cost, when every model it used has a price. */
  costUsd?: number | undefined
  models: string[]
  /** Step calls that were cancelled: they leave no outcome, so their timing travels here. */
  cancelled?: Array<{ step: string; call: number } & StepTiming> | undefined
}

/** Every settled step call of a run with its timing, for the inspector (`runSteps`). */
export type StepEntry = (
  | { step: string; call: number; ok: true; value: unknown }
  | { step: string; call: number; ok: false; error: string }
) & { timing?: StepTiming | undefined }

/** What the recent-runs list may be narrowed to. */
export interface RecentFilter {
  command?: string | undefined
  status?: RunStatus | undefined
  platform?: ReplyTarget['platform'] | undefined
}

/** A settled step call: successes are replayed on resume, failures only recorded. */
export type StepOutcome = (
  | { step: string; call: number; ok: true; value: unknown }
  | { step: string; call: number; ok: false; error: string }
) & {
  /** When it ran: kept with the outcome in the same write. */
  timing?: StepTiming | undefined
}

/** The run journal: runs, their step outcomes and which reply views were delivered. */
export interface RunJournal {
  /** Records an accepted run as `running`; a second create with the same id changes nothing. */
  create(run: NewRun): Promise<void>
  get(id: string): Promise<RunRecord | undefined>
  /** Runs still `running` and not parked, oldest first. */
  unfinished(): Promise<RunRecord[]>
  /** Idempotent per (run, step, call); a success replaces a failure, never the reverse. */
  recordStep(runId: string, outcome: StepOutcome): Promise<void>
  /** Successful step calls, for `runFlow(..., { resume })`. */
  completedSteps(runId: string): Promise<Array<{ step: string; call: number; value: unknown }>>
  /** Replaces the reply target (e.g. once the placeholder's message id is known). */
  setTarget(runId: string, target: ReplyTarget): Promise<void>
  /** Records that `view` reached the user (once per view); `target`, when given, replaces the reply target in the same write. */
  markDelivered(runId: string, view: DeliveredView, target?: ReplyTarget): Promise<void>
  /**
   * Moves a `running` run to a terminal status. False when it had already ended (or does not
   * exist), so two processes cannot both finish one run. `finalShownAt` records the final view's
   * delivery in the same write, whether or not the run had already ended.
   */
  finish(runId: string, status: Exclude<RunStatus, 'running'>, details?: FinishDetails): Promise<boolean>
  /** Every settled step call with its timing (failures included), by call then step. */
  runSteps(runId: string): Promise<StepEntry[]>
  /**
   * The newest runs first (by when they were created), at most `limit`, narrowed by `filter`. Reads
   * the journal's indexes: running runs, and ended runs until they are pruned.
   */
  recent(options: { limit: number; filter?: RecentFilter }): Promise<RunRecord[]>
  /** Counts a 👍 or 👎 on the run's reply (the caller counts each person's rating once). */
  rate(runId: string, rating: 'up' | 'down'): Promise<void>
  /** Deletes ended runs (and their steps) last updated before `before` (ms since epoch); returns how many. */
  prune(before: number): Promise<number>
}

/** How a run ended, beside its status. */
export interface FinishDetails {
  stoppedBy?: string
  note?: string
  summary?: RunSummary
  /** When the final view reached the user (ms since epoch), journaled with the end. */
  finalShownAt?: number
}

/** The decision of a question, as journaled (see engine/tally.ts `Decision`), and when it was taken. */
export type StoredDecision = Decision & {
  at: number
  /** Set when the question was withdrawn rather than answered (the run stopped, its step was no longer needed). */
  withdrawn?: string
}

/** One person's answer to a question: their last one counts. */
export interface GivenAnswer {
  user: string
  /** How the platform names them, for tallies and "decided by". */
  name: string
  value: unknown
  at: number
}

/** A question a run put to people, as journaled: plain data any process can render and decide. */
export interface QuestionRecord {
  runId: string
  /** Unique in the run: `<step>#<call>#<n>`. */
  id: string
  step: string
  /** What the platforms render and the rule decides (bot/asks: QuestionSpec), as JSON. */
  spec: unknown
  createdAt: number
  deadlineAt: number
  /** Where the question was posted (platform data), once it was. */
  message: unknown
  /** One per person (their last answer), in the order they first answered. */
  answers: GivenAnswer[]
  /** Counts accepted answers: a decision is taken against the answers it saw (`decide`). */
  version: number
  decision: StoredDecision | undefined
}

export interface NewQuestion {
  runId: string
  id: string
  step: string
  spec: unknown
  createdAt: number
  deadlineAt: number
}

/** The questions of runs, their answers, and their decisions, each taken exactly once. */
export interface Questions {
  /**
   * Records a question; a second open of the same (run, id) changes nothing and returns the record
   * as it is (its deadline stays the first one's). Answers given before it was recorded are in it.
   */
  openQuestion(question: NewQuestion): Promise<QuestionRecord>
  question(runId: string, id: string): Promise<QuestionRecord | undefined>
  /** A run's questions, in the order they were opened. */
  questions(runId: string): Promise<QuestionRecord[]>
  /**
   * Keeps `answer` as its user's (replacing their earlier one, keeping their place) and bumps the
   * version, unless the question is decided: then nothing changes and `ok` is false. An answer to a
   * question not recorded yet is kept for it (`record` undefined).
   */
  giveAnswer(
    runId: string,
    id: string,
    answer: GivenAnswer,
  ): Promise<{ ok: boolean; record: QuestionRecord | undefined }>
  /**
   * Decides the question once: `decision` is stored when none is and its version is still `version`.
   * `won` false: it was decided already, or answers came in since (read the record and decide again).
   */
  decide(
    runId: string,
    id: string,
    decision: StoredDecision,
    version: number,
  ): Promise<{ won: boolean; record: QuestionRecord | undefined }>
  /** Where the question was posted. */
  setQuestionMessage(runId: string, id: string, message: unknown): Promise<void>
}

/** Runs that wait for people cost only their journal rows: parked, and woken by answers and deadlines. */
export interface Parking {
  /**
   * Parks a running run: true, unless it was woken since its worker read `wakes` (then an answer
   * came in meanwhile: it is not parked, its worker goes on). `wakeAt`: when its earliest open
   * question's deadline passes.
   */
  park(runId: string, wakes: number, wakeAt: number | undefined): Promise<boolean>
  /** An answer decided or a deadline came: counts a wake, unparks; true when it was parked (queue it). */
  wake(runId: string): Promise<boolean>
  /** Parked runs and when each wants waking, for the timers a start sets. */
  parkedRuns(): Promise<Array<{ id: string; wakeAt: number | undefined }>>
}

/** Keys claimed for a while: redelivered commands and events run once. */
export interface KeyClaims {
  /** True for the first claim of `key` until `ttlMs` has passed. */
  claim(key: string, ttlMs: number): Promise<boolean>
}

/** The longest window a limit may have; stores forget uses older than this. */
export const MAX_LIMIT_WINDOW_MS = 7 * 24 * 60 * 60_000

/** One limit to take from: at most `limit` uses of `key` in any `windowMs`. */
export interface LimitSpec {
  key: string
  limit: number
  windowMs: number
}

/** A limit is a value, not an error: granted (uses left per limit), or refused until `retryAt`. */
export type Take =
  | { ok: true; remaining: number[] }
  | {
      ok: false
      /** Index in the `take` list of the limit that refused. */
      refused: number
      /** When (ms since epoch) one use of that limit is free again. */
      retryAt: number
    }

/**
 * Counters for limits and budgets, shared by every process on the store.
 * `take` is a sliding-window log: a use counts for exactly `windowMs` after it was granted, so a user
 * never gets more than `limit` in any window, and `retryAt` is when the oldest counted use expires.
 * `spend` is a plain total that expires (a budget per UTC day: the key names the day).
 */
export interface Counters {
  /**
   * Counts one use of every limit at `now`, or none: all-or-nothing, atomic across processes.
   * A refused take counts nothing.
   */
  take(limits: ReadonlyArray<LimitSpec>, now: number): Promise<Take>
  /** Adds `amount` (0 to read) to `key`'s total, which lives `ttlMs` from its first spend; returns the new total. */
  spend(key: string, amount: number, ttlMs: number): Promise<number>
}

/**
 * Platform installations (a Slack workspace's or org's tokens), kept as the caller sealed them (the
 * store never sees a token in the clear), and short locks that every process on the store respects.
 */
export interface Installations {
  /** Keeps `sealed` under `key`, replacing what was there. */
  putInstallation(key: string, sealed: string): Promise<void>
  getInstallation(key: string): Promise<string | undefined>
  /** Removes it; false when there was none (deleting twice is not an error). */
  deleteInstallation(key: string): Promise<boolean>
  /**
   * Takes the lock `key` for `ttlMs` unless someone holds it: returns the holder's token (to
   * `unlock` with), or undefined while another holds it. A holder that dies frees it after `ttlMs`.
   */
  lock(key: string, ttlMs: number): Promise<string | undefined>
  /** Frees the lock if `token` still holds it (not once it expired and another took it). */
  unlock(key: string, token: string): Promise<void>
}

/** Everything Chorus keeps between processes; one implementation per backend. */
export interface RunStore extends RunJournal, Questions, Parking, KeyClaims, Counters, Installations {
  /** `sqlite:<file>` or `redis:<prefix>`, for logs. */
  readonly describe: string
  close(): Promise<void>
}
