import type { FlowEvent } from '../engine/index.ts'
import type { LanguageModel } from '../llm/index.ts'
import type { ReplyView } from './reply/index.ts'

/** Which run an observation belongs to. */
export interface RunInfo {
  runId: string
  flow: string
  platform: 'slack' | 'discord' | 'console'
  /** Date.now() when the command was accepted (or started, in the console). */
  acceptedAt: number
  /** A run picked up again after a restart: its times since acceptance include the downtime. */
  resumed: boolean
}

/**
 * What the bot and the adapters report as they work, for metrics (src/ops) or anything else; every
 * method is optional and must not throw or block.
 */
export interface BotObserver {
  /** Each engine event of a run, as the bot consumes it. */
  event?(run: RunInfo, event: FlowEvent): void
  /** A reply view reached the platform. */
  shown?(run: RunInfo, view: ReplyView): void
  /** A platform command was acknowledged, `ms` after it arrived. */
  acked?(platform: 'slack' | 'discord', ms: number): void
  /** The platform answered 429 (or its SDK reported waiting on a rate limit). */
  rateLimited?(platform: 'slack' | 'discord', route: string, retryAfterMs: number): void
  /** A reply edit waited `ms` for the platform budget. */
  budgetWaited?(platform: string, priority: string, ms: number): void
  /** 👍 or 👎 on a reply of `flow` (once per person, run and rating). */
  feedback?(run: { flow: string; platform: 'slack' | 'discord' | 'console' }, rating: 'up' | 'down'): void
  /** Wraps the model every step uses (counting calls, tokens and errors). */
  model?(model: LanguageModel): LanguageModel
}

/** Whether one dependency (a platform connection, the store) is usable; `reason` says what is wrong. */
export type Check = { ok: true } | { ok: false; reason: string }
