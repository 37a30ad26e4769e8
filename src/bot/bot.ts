import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { type AnyFlow, FairLimiter, runFlow } from '../engine/index.ts'
import { createModel, type LanguageModel } from '../llm/index.ts'
import type { Config } from './config.ts'
import { createLogger } from './logger.ts'
import { stepModel } from './model.ts'
import { parseOptions, parseText } from './parse.ts'
import { loadFlows, type Registered } from './registry.ts'
import { ReplyPump, ViewBuilder } from './reply.ts'
import { truncate } from './text.ts'
import type { Command, CommandRun, ParseResult, ReplySink } from './types.ts'

export interface StartRequest {
  command: Command
  input: Record<string, unknown>
  /** Platform user id or display name: logged, and shown as who asked. */
  user: string
  platform: 'slack' | 'discord' | 'console'
  sink: ReplySink
  /** Least time between progress updates; the platform's edit rate. */
  minIntervalMs?: number
  /** Cut the run off after this long (Discord's interaction token lives 15 minutes). */
  deadlineMs?: number
}

/**
 * Per-step defaults: a step call gets 90 s in all (every try and the waits between them, not time
 * queued for a slot), transient errors are retried within that.
 */
const STEP_DEFAULTS = {
  timeoutMs: 90_000,
  retries: { attempts: 3, baseMs: 500, maxMs: 8_000, maxRetryAfterMs: 20_000 },
}

/** A partial join waits at most this long for its last input once the others are in. */
const STRAGGLER_GRACE_MS = 20_000

/** The platform-neutral bot: the command registry, input parsing and runs with their replies. */
export class Bot {
  readonly config: Config
  readonly model: LanguageModel
  readonly logger: Logger
  readonly limiter: FairLimiter
  readonly #registered: Registered[]
  readonly #active = new Map<string, CommandRun>()

  private constructor(config: Config, model: LanguageModel, logger: Logger, registered: Registered[]) {
    this.config = config
    this.model = model
    this.logger = logger
    this.limiter = new FairLimiter(config.CHORUS_CONCURRENCY)
    this.#registered = registered
  }

  static async create(options: {
    config: Config
    model?: LanguageModel
    logger?: Logger
    flowsDir?: string
  }): Promise<Bot> {
    const logger = options.logger ?? createLogger(options.config.LOG_LEVEL)
    const model = options.model ?? createModel(options.config)
    return new Bot(options.config, model, logger, await loadFlows(options.flowsDir))
  }

  get commands(): Command[] {
    return this.#registered.map((r) => r.command)
  }

  command(name: string): Command | undefined {
    return this.#find(name)?.command
  }

  parseText(command: Command, text: string): ParseResult {
    return parseText(command, this.#flow(command), text)
  }

  parseOptions(command: Command, values: Record<string, unknown>): ParseResult {
    return parseOptions(command, this.#flow(command), values)
  }

  /** Runs the command's flow and drives the reply from its events. */
  start(req: StartRequest): CommandRun {
    const flow = this.#flow(req.command)
    const runId = randomUUID()
    const log = this.logger.child({ runId, flow: flow.name, platform: req.platform, user: req.user })
    const pump = new ReplyPump(req.sink, req.minIntervalMs ?? 1_000, log)
    const primary = req.command.options.find((o) => o.primary)
    const subject = primary === undefined ? '' : String(req.input[primary.name] ?? '')
    const views = new ViewBuilder({
      runId,
      command: req.command.name,
      title: `${capitalise(req.command.name)}: ${truncate(subject.replace(/\s+/g, ' '), 150)}`,
      user: req.user,
      noun: req.command.noun,
      demo: this.model.demo,
      firstLabel: (flow.meta?.firstLabel as string | undefined) ?? 'First result',
    })
    const handle = runFlow(flow, req.input, {
      runId,
      services: (step) => ({ llm: stepModel(this.model, step) }),
      limiter: this.limiter,
      defaults: STEP_DEFAULTS,
      graceMs: STRAGGLER_GRACE_MS,
      ...(req.deadlineMs === undefined ? {} : { deadlineMs: req.deadlineMs }),
    })
    let stoppedBy: string | undefined
    const done = (async () => {
      for await (const event of handle) {
        logEvent(log, event)
        if (event.type === 'run.completed') {
          pump.push(views.finish(event.result, stoppedBy))
          await pump.drained
          return event.result
        }
        const view = views.apply(event)
        if (view !== undefined) pump.push(view)
      }
      throw new Error('run ended without run.completed')
    })().finally(() => this.#active.delete(runId))
    const run: CommandRun = {
      runId,
      cancel: (by) => {
        stoppedBy ??= by
        handle.cancel(`stopped by ${by}`)
      },
      done,
    }
    this.#active.set(runId, run)
    return run
  }

  /** A run still in progress, for Stop buttons. */
  get(runId: string): CommandRun | undefined {
    return this.#active.get(runId)
  }

  get activeRuns(): number {
    return this.#active.size
  }

  #find(name: string): Registered | undefined {
    return this.#registered.find((r) => r.command.name === name)
  }

  #flow(command: Command): AnyFlow {
    const found = this.#find(command.name)
    if (found === undefined) throw new Error(`no flow for command '${command.name}'`)
    return found.flow
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

function logEvent(log: Logger, event: import('../engine/index.ts').FlowEvent): void {
  switch (event.type) {
    case 'run.started':
      log.info({ event: event.type, steps: event.steps.length }, 'run.started')
      break
    case 'step.failed':
      log.warn(
        { event: event.type, step: event.step, err: event.error, ms: Math.round(event.durationMs) },
        'step.failed',
      )
      break
    case 'step.retrying':
      log.warn(
        {
          event: event.type,
          step: event.step,
          attempt: event.attempt,
          delayMs: event.delayMs,
          err: event.error,
        },
        'step.retrying',
      )
      break
    case 'step.cancelled':
      log.info({ event: event.type, step: event.step, reason: event.reason }, 'step.cancelled')
      break
    case 'run.first':
      log.info({ event: event.type, step: event.step, ms: Math.round(event.at) }, 'run.first')
      break
    case 'run.completed': {
      const r = event.result
      log.info(
        {
          event: event.type,
          status: r.status,
          ms: Math.round(r.durationMs),
          usage: r.usage,
          reason: r.reason,
          err: r.error,
          failures: r.failures.map((f) => f.step),
        },
        'run.completed',
      )
      break
    }
    default:
      log.debug({ event: event.type, step: 'step' in event ? event.step : undefined }, event.type)
  }
}
