import type { Route } from '../budgets/index.ts'

/** One start step (a branch of the fan-out) as the progress view shows it. */
export interface BranchState {
  name: string
  state: 'running' | 'done' | 'failed' | 'cancelled'
  /** How long it took, once done or failed. */
  ms?: number
  /** Short user-safe reason, when failed. */
  reason?: string
  /** The running branch whose text the reply shows as it is written. */
  writing?: boolean
}

/** What a reply shows at one moment of a run; adapters render it, the core decides when. */
export interface ReplyView {
  runId: string
  command: string
  /** What is being worked on, e.g. `Brainstorm: a name for our analytics product`. */
  title: string
  /** Who started it (platform user id or name, as the adapter passed it). */
  user: string
  status: 'working' | 'first' | 'final' | 'failed' | 'stopped'
  progress: { done: number; failed: number; total: number; noun: string }
  /** Every start step in declared order, with its state; empty when the reply was closed from the journal. */
  branches: BranchState[]
  /**
   * While working: the text of the leading branch as its model writes it (markdown, unfinished), and
   * that branch's step name. Gone once a first result is shown.
   */
  streaming?: { step: string; markdown: string }
  /** The first successful result, markdown, with the task that produced it. */
  first?: { label: string; markdown: string }
  /** The combined result, markdown. */
  final?: { markdown: string }
  /** Tasks that failed or were cancelled, with a short user-safe reason. */
  failures: Array<{ step: string; message: string }>
  /** User-safe explanation when status is `failed`. */
  error?: string
  /** Who pressed Stop, when status is `stopped`. */
  stoppedBy?: string
  elapsedMs: number
  firstMs?: number
  /** True when the text comes from the offline demo model. */
  demo: boolean
  /** A failed or stopped reply offers Retry (the run is in the journal). */
  retryable: boolean
  /** A final reply offers **Vote on these**: its ranked ideas put to the channel as a /decide vote. */
  voteOn?: boolean
  /** A line under the reply, e.g. that the run continues after a restart. */
  notice?: string
  /** What the run spent, on terminal views of runs that called a model. */
  usage?: UsageLine
}

/** The usage line's facts: which models, how many calls and tokens, and a budget that cut the run short. */
export interface UsageLine {
  models: string[]
  calls: number
  tokens: number
  promptTokens: number
  completionTokens: number
  /** Estimated from the price table; absent when a model's price is unknown. */
  costUsd?: number
  /** CHORUS_RUN_TOKEN_BUDGET, when reaching it cancelled the rest of the run. */
  budgetReached?: number
}

const TERMINAL: ReadonlySet<ReplyView['status']> = new Set(['final', 'failed', 'stopped'])

/** Final, failed and stopped views end a reply; nothing is shown after them. */
export function isTerminal(status: ReplyView['status']): boolean {
  return TERMINAL.has(status)
}

/** What a view shows: its status, or `streaming` for a working view that shows a branch's text. */
export type Phase = ReplyView['status'] | 'streaming'

/** A view of another phase than the one on screen is news (the first streamed words, a first result, the end). */
export function phaseOf(view: ReplyView): Phase {
  return view.status === 'working' && view.streaming !== undefined ? 'streaming' : view.status
}

/**
 * An adapter's side of a reply. The core calls `show` with the newest view, never two at a time,
 * skips intermediate progress views when the platform is slow, and always delivers the terminal
 * view (final, failed or stopped) last.
 */
export interface ReplySink {
  show(view: ReplyView): Promise<void>
  /** The platform budget route the next `show` of `view` spends from; undefined = none. */
  route?(view: ReplyView): Route | undefined
}
