import type { FlowEvent } from '../engine/index.ts'
import type { LanguageModel } from '../llm/index.ts'
import type { NewRun } from '../store/index.ts'
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
  /** Who asked, as the platform knows them (a user id; the console's user name). */
  requester?: string | undefined
  /** The trace context kept with the run when it was accepted (W3C `traceparent`), if it was traced. */
  traceparent?: string | undefined
}

/** A command being accepted while a tracer watches: the trace context to keep with the run, and its end. */
export interface Accepting {
  traceparent: string
  /** Journaled and queued (or refused with `error`). */
  end(error?: unknown): void
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
  /** The platform answered 429 (or its SDK reported waiting on a rate limit); `runId` when a run's reply met it. */
  rateLimited?(platform: 'slack' | 'discord', route: string, retryAfterMs: number, runId?: string): void
  /** A reply edit waited `ms` for the platform budget. */
  budgetWaited?(platform: string, priority: string, ms: number): void
  /** 👍 or 👎 on a reply of `flow` (once per person, run and rating). */
  feedback?(run: { flow: string; platform: 'slack' | 'discord' | 'console' }, rating: 'up' | 'down'): void
  /** Wraps the model every step uses (counting calls, tokens and errors). */
  model?(model: LanguageModel): LanguageModel
  /** Wraps the model of one try of one step call (a tracer makes its calls children of the step). */
  stepModel?(run: RunInfo, step: { step: string; call: number }, model: LanguageModel): LanguageModel
  /**
   * A new run is about to be journaled: a tracer opens its trace and keeps its context with the run;
   * `follows` is the trace context of the run it reruns (Again, Refine).
   */
  accepting?(run: NewRun, platform: 'slack' | 'discord', follows?: string): Accepting | undefined
  /** The run stopped here without ending (parked for people, or suspended by a shutdown). */
  handedOn?(run: RunInfo, why: 'parked' | 'suspended'): void
}

/** Several observers as one: every hook goes to each; model wrappers are applied in turn. */
export function observeAll(...observers: BotObserver[]): BotObserver {
  // Each hook's observers, worked out once (hooks such as `event` are called for every engine event).
  const lists = new Map<keyof BotObserver, BotObserver[]>()
  const all = (k: keyof BotObserver): BotObserver[] => {
    const known = lists.get(k)
    if (known !== undefined) return known
    const list = observers.filter((o) => o[k] !== undefined)
    lists.set(k, list)
    return list
  }
  return {
    event: (run, event) => {
      for (const o of all('event')) o.event?.(run, event)
    },
    shown: (run, view) => {
      for (const o of all('shown')) o.shown?.(run, view)
    },
    acked: (platform, ms) => {
      for (const o of all('acked')) o.acked?.(platform, ms)
    },
    rateLimited: (platform, route, ms, runId) => {
      for (const o of all('rateLimited')) o.rateLimited?.(platform, route, ms, runId)
    },
    budgetWaited: (platform, priority, ms) => {
      for (const o of all('budgetWaited')) o.budgetWaited?.(platform, priority, ms)
    },
    feedback: (run, rating) => {
      for (const o of all('feedback')) o.feedback?.(run, rating)
    },
    model: (model) => all('model').reduce((m, o) => o.model?.(m) ?? m, model),
    stepModel: (run, step, model) =>
      all('stepModel').reduce((m, o) => o.stepModel?.(run, step, m) ?? m, model),
    accepting: (run, platform, follows) => {
      for (const o of all('accepting')) {
        const accepting = o.accepting?.(run, platform, follows)
        if (accepting !== undefined) return accepting
      }
      return undefined
    },
    handedOn: (run, why) => {
      for (const o of all('handedOn')) o.handedOn?.(run, why)
    },
  }
}

/** Whether one dependency (a platform connection, the store) is usable; `reason` says what is wrong. */
export type Check = { ok: true } | { ok: false; reason: string }
