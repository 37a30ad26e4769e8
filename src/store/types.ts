/** Where a run's reply lives, as plain data: any process can rebuild a sink from it. */
export type ReplyTarget = SlackTarget | DiscordTarget

export interface SlackTarget {
  platform: 'slack'
  /** Workspace, for budgets and logs. */
  teamId?: string
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
  user: string
  target: ReplyTarget
  createdAt: number
}

export interface RunRecord extends NewRun {
  status: RunStatus
  updatedAt: number
  delivered: DeliveredView[]
  /** Who pressed Stop, for stopped runs. */
  stoppedBy: string | undefined
  /** User-safe note for failed and abandoned runs. */
  note: string | undefined
}

/** A settled step call: successes are replayed on resume, failures only recorded. */
export type StepOutcome =
  | { step: string; call: number; ok: true; value: unknown }
  | { step: string; call: number; ok: false; error: string }

/** The run journal: runs, their step outcomes and which reply views were delivered. */
export interface RunJournal {
  /** Records an accepted run as `running`; a second create with the same id changes nothing. */
  create(run: NewRun): Promise<void>
  get(id: string): Promise<RunRecord | undefined>
  /** Runs still `running`, oldest first. */
  unfinished(): Promise<RunRecord[]>
  /** Idempotent per (run, step, call); a success replaces a failure, never the reverse. */
  recordStep(runId: string, outcome: StepOutcome): Promise<void>
  /** Successful step calls, for `runFlow(..., { resume })`. */
  completedSteps(runId: string): Promise<Array<{ step: string; call: number; value: unknown }>>
  /** Replaces the reply target (e.g. once the placeholder's message id is known). */
  setTarget(runId: string, target: ReplyTarget): Promise<void>
  markDelivered(runId: string, view: DeliveredView): Promise<void>
  /**
   * Moves a `running` run to a terminal status. False when it had already ended (or does not
   * exist), so two processes cannot both finish one run.
   */
  finish(
    runId: string,
    status: Exclude<RunStatus, 'running'>,
    details?: { stoppedBy?: string; note?: string },
  ): Promise<boolean>
  /** Deletes ended runs (and their steps) last updated before `before` (ms since epoch); returns how many. */
  prune(before: number): Promise<number>
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

/** Everything Chorus keeps between processes; one implementation per backend. */
export interface RunStore extends RunJournal, KeyClaims, Counters {
  /** `sqlite:<file>` or `redis:<prefix>`, for logs. */
  readonly describe: string
  close(): Promise<void>
}
