import { setTimeout as sleep } from 'node:timers/promises'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type { BotObserver, EditBudget, RunInfo } from '../bot/index.ts'
import type { FlowEvent } from '../engine/index.ts'
import type { LanguageModel, Usage } from '../llm/index.ts'
import type { RunQueue } from '../queue/index.ts'

/** Seconds: a slash command's reply moments span milliseconds (ack) to minutes (a slow final). */
const REPLY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30, 60, 120, 300]
const ACK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3]
const WAIT_BUCKETS = [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60]

/** What the gauges read when Prometheus scrapes. */
export interface MetricSources {
  activeRuns(): number
  queue?: Pick<RunQueue, 'stats'>
  /** The in-process limiter's counts, when it has them (the Redis one does not). */
  limiter?: { readonly active?: number; readonly waiting?: number }
  budget?: Pick<EditBudget, 'waiting'>
  /** Redis' health, with REDIS_URL. */
  redis?: { readonly up: boolean; readonly outages: number }
}

/** A scrape waits at most this long for the queue's counts. */
const STATS_BOUND_MS = 1_000

/** Chorus' Prometheus metrics, built from engine events and the adapters' hooks; `observer` feeds them. */
export class ChorusMetrics {
  readonly registry = new Registry()
  readonly observer: BotObserver
  readonly #replies: ReturnType<typeof replyMetrics>
  readonly #calls: ReturnType<typeof callMetrics>
  #sources: MetricSources | undefined

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry]
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'chorus_' })
    this.#replies = replyMetrics(registers)
    this.#calls = callMetrics(registers)
    scrapedGauges(registers, () => this.#sources)
    this.observer = {
      event: (run, event) => this.#event(run, event),
      shown: (run, view) => {
        if (run.resumed || view.notice !== undefined) return
        const s = (Date.now() - run.acceptedAt) / 1000
        const labels = { flow: run.flow, platform: run.platform }
        if (view.streaming !== undefined || view.status === 'first' || view.status === 'final')
          this.#once(run.runId, 'text', () => this.#replies.firstText.observe(labels, s))
        if (view.status === 'first')
          this.#once(run.runId, 'first', () => this.#replies.first.observe(labels, s))
        else if (view.status !== 'working')
          this.#once(run.runId, 'final', () => this.#replies.final.observe(labels, s))
      },
      acked: (platform, ms) => this.#replies.ack.observe({ platform }, ms / 1000),
      rateLimited: (platform, route) => this.#calls.rateLimited.inc({ platform, route }),
      budgetWaited: (platform, priority, ms) =>
        this.#calls.budgetWait.observe({ platform, priority }, ms / 1000),
      feedback: ({ flow, platform }, rating) => this.#replies.feedback.inc({ flow, platform, rating }),
      model: (model) => this.#model(model),
    }
  }

  /** Where the gauges read from: the bot, its queue, limiter and budget. */
  attach(sources: MetricSources): void {
    this.#sources = sources
  }

  /** The Prometheus text exposition. */
  scrape(): Promise<string> {
    return this.registry.metrics()
  }

  readonly #seen = new Map<string, Set<string>>()

  #once(runId: string, what: string, fn: () => void): void {
    let seen = this.#seen.get(runId)
    if (seen === undefined) {
      seen = new Set()
      this.#seen.set(runId, seen)
    }
    if (seen.has(what)) return
    seen.add(what)
    fn()
    if (what === 'final') this.#seen.delete(runId)
  }

  #event(run: RunInfo, event: FlowEvent): void {
    if (event.type === 'step.completed' || event.type === 'step.failed') {
      if (event.queuedMs > 0 || event.type === 'step.completed')
        this.#calls.limiterWait.observe(event.queuedMs / 1000)
    } else if (event.type === 'run.completed') {
      this.#replies.commands.inc({ flow: run.flow, platform: run.platform, outcome: event.result.status })
    }
  }

  #model(model: LanguageModel): LanguageModel {
    const id = model.id
    const usage = (u: Usage) => {
      this.#calls.modelCalls.inc({ model: id, outcome: 'ok' }, u.calls)
      this.#calls.tokens.inc({ model: id, kind: 'prompt' }, u.promptTokens)
      this.#calls.tokens.inc({ model: id, kind: 'completion' }, u.completionTokens)
    }
    const failed = (error: unknown, n = 1) => {
      const code = (error as { code?: unknown } | undefined)?.code
      // A call Chorus aborted itself (Stop, a race lost) is not the model's error.
      if (code === 'model_aborted' || n === 0) return
      const label = typeof code === 'string' ? code : 'unknown'
      this.#calls.modelCalls.inc({ model: id, outcome: 'error' }, n)
      this.#calls.modelErrors.inc({ model: id, code: label }, n)
    }
    return {
      id,
      demo: model.demo,
      text: (prompt, options) =>
        model
          .text(prompt, {
            ...options,
            onUsage: (u) => {
              usage(u)
              options?.onUsage?.(u)
            },
          })
          .catch((error: unknown) => {
            failed(error)
            throw error
          }),
      samples: async (prompt, k, options) => {
        const samples = await model
          .samples(prompt, k, {
            ...options,
            onUsage: (u) => {
              usage(u)
              options?.onUsage?.(u)
            },
          })
          .catch((error: unknown) => {
            failed(error)
            throw error
          })
        if (samples.failed > 0) failed(samples.error, samples.failed)
        return samples
      },
    }
  }
}

/** Gauges (and the Redis outage count) read from the bot, its queue, limiter, budget and Redis at each scrape. */
function scrapedGauges(registers: Registry[], sources: () => MetricSources | undefined): void {
  new Gauge({
    name: 'chorus_active_runs',
    help: 'Runs this process is working now',
    registers,
    collect() {
      this.set(sources()?.activeRuns() ?? 0)
    },
  })
  new Gauge({
    name: 'chorus_limiter_in_flight',
    help: 'Model calls holding a limiter slot in this process (in-process limiter only)',
    registers,
    collect() {
      this.set(sources()?.limiter?.active ?? 0)
    },
  })
  new Gauge({
    name: 'chorus_limiter_queue_depth',
    help: 'Model calls waiting for a limiter slot in this process (in-process limiter only)',
    registers,
    collect() {
      this.set(sources()?.limiter?.waiting ?? 0)
    },
  })
  new Gauge({
    name: 'chorus_reply_budget_queue_depth',
    help: 'Reply edits waiting for a platform budget turn',
    registers,
    collect() {
      this.set(sources()?.budget?.waiting ?? 0)
    },
  })
  new Gauge({
    name: 'chorus_queue_jobs',
    help: 'Runs in the run queue by state (waiting, active, delayed); shared by every process on Redis',
    labelNames: ['state'],
    registers,
    async collect() {
      const queue = sources()?.queue
      // Redis down: a scrape answers at once with the last counts instead of waiting for it.
      if (queue === undefined || sources()?.redis?.up === false) return
      const s = await Promise.race([queue.stats(), sleep(STATS_BOUND_MS).then(() => undefined)])
      if (s === undefined) return
      this.set({ state: 'waiting' }, s.waiting)
      this.set({ state: 'active' }, s.active)
      this.set({ state: 'delayed' }, s.delayed)
    },
  })
  new Gauge({
    name: 'chorus_redis_up',
    help: 'Whether Redis answers (1) or not (0); absent without REDIS_URL',
    registers,
    collect() {
      const redis = sources()?.redis
      if (redis !== undefined) this.set(redis.up ? 1 : 0)
    },
  })
  new Counter({
    name: 'chorus_redis_outages_total',
    help: 'Times Redis stopped answering since this process started',
    registers,
    collect() {
      const redis = sources()?.redis
      if (redis === undefined) return
      this.reset()
      this.inc(redis.outages)
    },
  })
}

/** Commands and their replies: how they ended, the time to each reply moment, and 👍/👎. */
function replyMetrics(registers: Registry[]) {
  return {
    commands: new Counter({
      name: 'chorus_commands_total',
      help: 'Commands that ended, by flow, platform and outcome (completed, failed, cancelled)',
      labelNames: ['flow', 'platform', 'outcome'],
      registers,
    }),
    ack: new Histogram({
      name: 'chorus_ack_seconds',
      help: 'Time from a command reaching Chorus to its acknowledgement reaching the platform',
      labelNames: ['platform'],
      buckets: ACK_BUCKETS,
      registers,
    }),
    first: new Histogram({
      name: 'chorus_first_result_seconds',
      help: 'Time from accepting a command to its first result reaching the platform',
      labelNames: ['flow', 'platform'],
      buckets: REPLY_BUCKETS,
      registers,
    }),
    firstText: new Histogram({
      name: 'chorus_first_text_seconds',
      help: 'Time from accepting a command to the first model text (streamed, or the first result) reaching the platform',
      labelNames: ['flow', 'platform'],
      buckets: REPLY_BUCKETS,
      registers,
    }),
    final: new Histogram({
      name: 'chorus_final_seconds',
      help: 'Time from accepting a command to its final reply (combined, failed or stopped) reaching the platform',
      labelNames: ['flow', 'platform'],
      buckets: REPLY_BUCKETS,
      registers,
    }),
    feedback: new Counter({
      name: 'chorus_feedback_total',
      help: '👍 (up) and 👎 (down) on replies, by flow and platform; once per person, run and rating',
      labelNames: ['flow', 'platform', 'rating'],
      registers,
    }),
  }
}

/** Calls Chorus makes: model requests, tokens and errors, and the waits for a limiter slot or a platform's turn. */
function callMetrics(registers: Registry[]) {
  return {
    modelCalls: new Counter({
      name: 'chorus_model_calls_total',
      help: 'Model requests by model and outcome (ok, error)',
      labelNames: ['model', 'outcome'],
      registers,
    }),
    tokens: new Counter({
      name: 'chorus_model_tokens_total',
      help: 'Tokens billed by model and kind (prompt, completion)',
      labelNames: ['model', 'kind'],
      registers,
    }),
    modelErrors: new Counter({
      name: 'chorus_model_errors_total',
      help: 'Failed model requests by model and error code',
      labelNames: ['model', 'code'],
      registers,
    }),
    limiterWait: new Histogram({
      name: 'chorus_limiter_wait_seconds',
      help: "Time a step's model calls waited for a limiter slot",
      buckets: WAIT_BUCKETS,
      registers,
    }),
    rateLimited: new Counter({
      name: 'chorus_platform_rate_limited_total',
      help: 'Platform calls answered 429 (Slack) or held by a rate limit (Discord rateLimited), by route',
      labelNames: ['platform', 'route'],
      registers,
    }),
    budgetWait: new Histogram({
      name: 'chorus_reply_budget_wait_seconds',
      help: 'Time a reply edit waited for its platform budget turn, by priority',
      labelNames: ['platform', 'priority'],
      buckets: WAIT_BUCKETS,
      registers,
    }),
  }
}
