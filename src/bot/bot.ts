import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import { type AnyFlow, FairLimiter, type FlowEvent, type RunResult, runFlow } from '../engine/index.ts'
import { createModel, type LanguageModel } from '../llm/index.ts'
import type { ReplyTarget, RunRecord, RunStore } from '../store/index.ts'
import { SqliteStore } from '../store/index.ts'
import type { Config } from './config.ts'
import { describeFailure } from './errors.ts'
import { createLogger } from './logger.ts'
import { stepModel } from './model.ts'
import { parseOptions, parseText } from './parse.ts'
import { loadFlows, type Registered } from './registry.ts'
import { ReplyPump, ViewBuilder } from './reply.ts'
import { truncate } from './text.ts'
import type { Command, CommandRun, ParseResult, ReplySink, ReplyView } from './types.ts'

export type PlatformName = 'slack' | 'discord' | 'console'

/** How a platform answers runs: everything it needs comes from a run's plain-data reply target. */
export interface Platform {
  name: 'slack' | 'discord'
  /** Rebuilds a reply sink from a target in whatever process finishes the run. */
  sink(target: ReplyTarget, ctx: { runId: string; log: Logger; save(target: ReplyTarget): void }): ReplySink
  /** Least time between progress edits; the platform's edit rate. */
  minIntervalMs: number
  /** How long a reply to this target can still be made (Discord tokens live 15 minutes); undefined = no limit. */
  remainingMs(target: ReplyTarget, now: number): number | undefined
}

/** A run started from the console or a test: not journaled, its sink given. */
export interface StartRequest {
  command: Command
  input: Record<string, unknown>
  /** Platform user id or display name: logged, and shown as who asked. */
  user: string
  platform: PlatformName
  sink: ReplySink
  /** Least time between progress updates; the platform's edit rate. */
  minIntervalMs?: number
  /** Cut the run off after this long. */
  deadlineMs?: number
}

/** A run accepted from Slack or Discord: journaled first, answerable from any process. */
export interface AcceptRequest {
  command: Command
  input: Record<string, unknown>
  user: string
  target: ReplyTarget
  /**
   * The platform's own placeholder (Discord's deferred reply), sent after the journal write: the run
   * starts once it settles, and is abandoned if it fails.
   */
  placeholder?: Promise<unknown>
}

export type StopOutcome =
  /** Live in this process: cancelling; its reply will say who stopped it. */
  | 'stopping'
  /** Not live anywhere here but unfinished in the journal: marked stopped and its reply closed. */
  | 'stopped'
  | 'finished'
  | 'unknown'

export type RetryOutcome = { ok: true; run: CommandRun } | { ok: false; message: string }

/** Per-step defaults: a model call that hangs is cut off, transient errors are retried. */
const STEP_DEFAULTS = {
  timeoutMs: 90_000,
  retries: { attempts: 3, baseMs: 500, maxMs: 8_000, maxRetryAfterMs: 20_000 },
}
/** A Slack reply older than this is not resumed after a restart: it is closed with a Retry button. */
const RESUME_MAX_AGE_MS = 60 * 60_000
/** A resumed run needs at least this long to be worth starting before its reply expires. */
const RESUME_MIN_REMAINING_MS = 30_000
/** Ended runs stay in the journal this long, so Retry and Stop can still find them. */
const KEEP_ENDED_MS = 7 * 24 * 60 * 60_000

export const RESTART_NOTICE = 'Chorus is restarting; this run will continue in a moment.'
export const DRAINING_MESSAGE = 'Chorus is restarting; try again in a few seconds.'

interface Live extends CommandRun {
  suspended: boolean
}

/** The platform-neutral bot: the command registry, input parsing and runs with their replies. */
export class Bot {
  readonly config: Config
  readonly model: LanguageModel
  readonly logger: Logger
  readonly limiter: FairLimiter
  readonly store: RunStore
  readonly #registered: Registered[]
  readonly #active = new Map<string, Live>()
  readonly #platforms = new Map<string, Platform>()
  #accepting = true

  private constructor(
    config: Config,
    model: LanguageModel,
    logger: Logger,
    registered: Registered[],
    store: RunStore,
  ) {
    this.config = config
    this.model = model
    this.logger = logger
    this.limiter = new FairLimiter(config.CHORUS_CONCURRENCY)
    this.#registered = registered
    this.store = store
  }

  static async create(options: {
    config: Config
    model?: LanguageModel
    logger?: Logger
    flowsDir?: string
    /** The run journal; default an in-memory one (nothing survives the process). */
    store?: RunStore
  }): Promise<Bot> {
    const logger = options.logger ?? createLogger(options.config.LOG_LEVEL)
    const model = options.model ?? createModel(options.config)
    const store = options.store ?? new SqliteStore(':memory:')
    return new Bot(options.config, model, logger, await loadFlows(options.flowsDir), store)
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

  /** Lets runs answer on this platform; resumed and retried runs rebuild their sinks through it. */
  attach(platform: Platform): void {
    this.#platforms.set(platform.name, platform)
  }

  /** False once shutdown began: adapters answer new commands with DRAINING_MESSAGE. */
  get accepting(): boolean {
    return this.#accepting
  }

  /** Runs a command whose reply is not journaled (the console). */
  start(req: StartRequest): CommandRun {
    return this.#execute({
      runId: randomUUID(),
      command: req.command,
      input: req.input,
      user: req.user,
      platform: req.platform,
      sink: req.sink,
      minIntervalMs: req.minIntervalMs ?? 1_000,
      deadlineMs: req.deadlineMs,
      journaled: false,
    })
  }

  /** Journals a platform command, then runs it. Resolves once it is journaled (ack after that). */
  async accept(req: AcceptRequest): Promise<CommandRun> {
    const record: RunRecord = {
      id: randomUUID(),
      command: req.command.name,
      input: req.input,
      user: req.user,
      target: req.target,
      createdAt: Date.now(),
      status: 'running',
      updatedAt: Date.now(),
      delivered: [],
      stoppedBy: undefined,
      note: undefined,
    }
    await this.store.create(record)
    if (req.placeholder !== undefined) {
      try {
        await req.placeholder
      } catch (error) {
        await this.store.finish(record.id, 'abandoned', { note: 'the platform refused the acknowledgement' })
        throw error
      }
      record.delivered.push('placeholder')
      await this.store.markDelivered(record.id, 'placeholder')
    }
    return this.#fromRecord(record, [])
  }

  /**
   * Picks up every run the journal says is unfinished (after a crash, a deploy or a kill): finished
   * steps are reused, the rest run, and the same reply is updated. Runs whose reply can no longer be
   * made in time are closed with a note and marked abandoned.
   */
  async resume(): Promise<{ resumed: CommandRun[]; abandoned: number; ended: number }> {
    const resumed: CommandRun[] = []
    let abandoned = 0
    let ended = 0
    await this.store.prune(Date.now() - KEEP_ENDED_MS)
    for (const record of await this.store.unfinished()) {
      if (this.#active.has(record.id)) continue
      const platform = this.#platforms.get(record.target.platform)
      // A platform that is not configured now keeps its runs for a start that has it.
      if (platform === undefined) continue
      const log = this.#log(record)
      if (this.#find(record.command) === undefined) {
        await this.#abandon(
          record,
          `Chorus no longer has /${record.command}, so this run could not continue.`,
        )
        abandoned++
        continue
      }
      if (record.delivered.includes('final')) {
        // The final reached the user just before the process died; only the journal missed it.
        await this.store.finish(record.id, 'completed')
        ended++
        continue
      }
      const now = Date.now()
      const remaining = platform.remainingMs(record.target, now)
      const tooOld = remaining === undefined && now - record.createdAt > RESUME_MAX_AGE_MS
      if (tooOld || (remaining !== undefined && remaining < RESUME_MIN_REMAINING_MS)) {
        log.warn({ event: 'run.abandoned', ageMs: now - record.createdAt, remaining }, 'run.abandoned')
        await this.#abandon(record, 'Chorus restarted and this run could not be finished in time.')
        abandoned++
        continue
      }
      const steps = await this.store.completedSteps(record.id)
      log.info({ event: 'run.resumed', steps: steps.length, delivered: record.delivered }, 'run.resumed')
      resumed.push(this.#fromRecord(record, steps))
    }
    return { resumed, abandoned, ended }
  }

  /** Stop, from any process: cancels a live run, or closes one that only the journal still has. */
  async stop(runId: string, by: string): Promise<StopOutcome> {
    const live = this.#active.get(runId)
    if (live !== undefined) {
      live.cancel(by)
      return 'stopping'
    }
    const record = await this.store.get(runId)
    if (record === undefined) return 'unknown'
    if (record.status !== 'running') return 'finished'
    if (!(await this.store.finish(runId, 'stopped', { stoppedBy: by }))) return 'finished'
    await this.#close(record, { stoppedBy: by })
    return 'stopped'
  }

  /** Retry: the same command with the same input, as a new run for whoever asked, replying at `target`. */
  async retry(
    runId: string,
    by: string,
    target: ReplyTarget,
    options: { placeholder?: Promise<unknown> } = {},
  ): Promise<RetryOutcome> {
    const record = await this.store.get(runId)
    if (record === undefined) {
      return { ok: false, message: 'Chorus no longer has that run in its journal; run the command again.' }
    }
    const command = this.command(record.command)
    if (command === undefined) return { ok: false, message: `Chorus no longer has /${record.command}.` }
    const parsed = this.#flow(command).input.safeParse(record.input)
    if (!parsed.success) return { ok: false, message: `That input no longer fits ${command.usage}.` }
    const run = await this.accept({
      command,
      input: parsed.data as Record<string, unknown>,
      user: by,
      target,
      ...(options.placeholder === undefined ? {} : { placeholder: options.placeholder }),
    })
    return { ok: true, run }
  }

  /**
   * Graceful shutdown: accept nothing new, give live runs up to `graceMs` to finish, then suspend
   * the rest (their replies say they continue after the restart; the journal keeps them).
   */
  async shutdown(graceMs: number): Promise<{ finished: number; suspended: number }> {
    this.#accepting = false
    const live = [...this.#active.values()]
    let timer: ReturnType<typeof setTimeout> | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs)
    })
    await Promise.race([Promise.allSettled(live.map((r) => r.done)), grace])
    clearTimeout(timer)
    const rest = [...this.#active.values()]
    for (const run of rest) run.suspend(RESTART_NOTICE)
    await Promise.allSettled(rest.map((r) => r.done))
    return { finished: live.length - rest.length, suspended: rest.length }
  }

  /** A run still in progress in this process. */
  get(runId: string): CommandRun | undefined {
    return this.#active.get(runId)
  }

  get activeRuns(): number {
    return this.#active.size
  }

  #fromRecord(record: RunRecord, steps: Array<{ step: string; call: number; value: unknown }>): CommandRun {
    const platform = this.#platforms.get(record.target.platform)
    if (platform === undefined) throw new Error(`no platform '${record.target.platform}' attached`)
    const command = this.command(record.command)
    if (command === undefined) throw new Error(`no flow for command '${record.command}'`)
    const log = this.#log(record)
    let target = record.target
    const sink = platform.sink(target, {
      runId: record.id,
      log,
      save: (next) => {
        target = next
        this.store
          .setTarget(record.id, next)
          .catch((err: unknown) => log.error({ err }, 'journal.write_failed'))
      },
    })
    const remaining = platform.remainingMs(target, Date.now())
    return this.#execute({
      runId: record.id,
      command,
      input: record.input,
      user: record.user,
      platform: record.target.platform,
      sink,
      minIntervalMs: platform.minIntervalMs,
      deadlineMs: remaining,
      journaled: true,
      resume: steps,
      delivered: record.delivered,
      offsetMs: steps.length > 0 || record.delivered.length > 0 ? Date.now() - record.createdAt : 0,
    })
  }

  #execute(req: {
    runId: string
    command: Command
    input: Record<string, unknown>
    user: string
    platform: PlatformName
    sink: ReplySink
    minIntervalMs: number
    deadlineMs: number | undefined
    journaled: boolean
    resume?: Array<{ step: string; call: number; value: unknown }>
    delivered?: string[]
    offsetMs?: number
  }): CommandRun {
    const flow = this.#flow(req.command)
    const { runId } = req
    const log = this.logger.child({ runId, flow: flow.name, platform: req.platform, user: req.user })
    const delivered = new Set(req.delivered ?? [])
    const journal = req.journaled ? this.store : undefined
    const record = (what: () => Promise<unknown>): void => {
      what().catch((err: unknown) => log.error({ err }, 'journal.write_failed'))
    }
    const calls = new Map<string, number>()
    const pump = new ReplyPump(req.sink, req.minIntervalMs, log, {
      ...(delivered.has('first')
        ? { shownStatus: 'first' as const }
        : delivered.has('placeholder')
          ? { shownStatus: 'working' as const }
          : {}),
      onShown: (view) => {
        const kind = view.status === 'working' ? 'placeholder' : view.status === 'first' ? 'first' : 'final'
        if (view.notice !== undefined || delivered.has(kind)) return
        delivered.add(kind)
        if (journal !== undefined) record(() => journal.markDelivered(runId, kind))
      },
    })
    const views = new ViewBuilder({
      runId,
      command: req.command.name,
      title: titleOf(req.command, req.input),
      user: req.user,
      noun: req.command.noun,
      demo: this.model.demo,
      firstLabel: (flow.meta?.firstLabel as string | undefined) ?? 'First result',
      retryable: req.journaled,
      ...(req.offsetMs === undefined ? {} : { offsetMs: req.offsetMs }),
    })
    const handle = runFlow(flow, req.input, {
      runId,
      services: ({ reportUsage }) => ({ llm: stepModel(this.model, this.limiter, runId, reportUsage) }),
      defaults: STEP_DEFAULTS,
      ...(req.deadlineMs === undefined ? {} : { deadlineMs: Math.max(1_000, req.deadlineMs) }),
      ...(req.resume === undefined ? {} : { resume: req.resume }),
      // Synchronous with the event, so a kill right after a step finished still finds it journaled.
      ...(journal === undefined
        ? {}
        : { onEvent: (event: FlowEvent) => journalStep(journal, runId, event, calls, record) }),
    })
    // A resumed run replays its journal in microtasks; show the reply only once that is applied.
    if (req.resume !== undefined && req.resume.length > 0) pump.hold(new Promise((r) => setImmediate(r)))
    let stoppedBy: string | undefined
    let suspendNotice: string | undefined
    const done = (async (): Promise<RunResult> => {
      for await (const event of handle) {
        logEvent(log, event)
        if (event.type === 'run.completed') {
          const result = event.result
          if (suspendNotice !== undefined) {
            pump.end(views.withNotice(suspendNotice))
            await pump.drained
            log.info({ event: 'run.suspended' }, 'run.suspended')
            return result
          }
          pump.push(views.finish(result, stoppedBy))
          await pump.drained
          if (journal !== undefined) {
            const status =
              result.status === 'completed'
                ? 'completed'
                : result.status === 'cancelled'
                  ? 'stopped'
                  : 'failed'
            await journal
              .finish(runId, status, {
                ...(stoppedBy === undefined ? {} : { stoppedBy }),
                ...(status === 'failed' ? { note: describeFailure(result.error) } : {}),
              })
              .catch((err: unknown) => log.error({ err }, 'journal.write_failed'))
          }
          return result
        }
        const view = views.apply(event)
        if (view !== undefined) pump.push(view)
      }
      throw new Error('run ended without run.completed')
    })().finally(() => this.#active.delete(runId))
    const run: Live = {
      runId,
      suspended: false,
      cancel: (by) => {
        stoppedBy ??= by
        handle.cancel(`stopped by ${by}`)
      },
      suspend: (notice) => {
        if (!req.journaled || stoppedBy !== undefined) return
        suspendNotice ??= notice
        run.suspended = true
        handle.cancel('Chorus is shutting down')
      },
      done,
    }
    this.#active.set(runId, run)
    return run
  }

  /** Ends a journaled run that will not run here (too late, or its flow is gone), saying why. */
  async #abandon(record: RunRecord, note: string): Promise<void> {
    if (!(await this.store.finish(record.id, 'abandoned', { note }))) return
    await this.#close(record, { error: `${note} Press Retry to run it again.` })
  }

  /** Shows a closing view on a run's reply from the journal alone (no flow runs). */
  async #close(record: RunRecord, how: { stoppedBy: string } | { error: string }): Promise<void> {
    const platform = this.#platforms.get(record.target.platform)
    const command = this.command(record.command)
    if (platform === undefined) return
    const log = this.#log(record)
    const remaining = platform.remainingMs(record.target, Date.now())
    if (remaining !== undefined && remaining <= 0) {
      log.info({ event: 'reply.expired' }, 'reply.expired')
      return
    }
    const views = new ViewBuilder({
      runId: record.id,
      command: record.command,
      title: command === undefined ? `/${record.command}` : titleOf(command, record.input),
      user: record.user,
      noun: command?.noun ?? 'results',
      demo: this.model.demo,
      firstLabel: 'First result',
      retryable: true,
      offsetMs: Date.now() - record.createdAt,
    })
    const sink = platform.sink(record.target, {
      runId: record.id,
      log,
      save: (next) => {
        this.store
          .setTarget(record.id, next)
          .catch((err: unknown) => log.error({ err }, 'journal.write_failed'))
      },
    })
    try {
      await sink.show(views.close(how))
    } catch (err) {
      log.error({ err }, 'reply.show_failed')
    }
  }

  #log(record: RunRecord): Logger {
    return this.logger.child({
      runId: record.id,
      flow: record.command,
      platform: record.target.platform,
      user: record.user,
    })
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

/** `Brainstorm: a name for our analytics product`. */
function titleOf(command: Command, input: Record<string, unknown>): string {
  const primary = command.options.find((o) => o.primary)
  const subject = primary === undefined ? '' : String(input[primary.name] ?? '')
  return `${capitalise(command.name)}: ${truncate(subject.replace(/\s+/g, ' '), 150)}`
}

function journalStep(
  journal: RunStore,
  runId: string,
  event: FlowEvent,
  calls: Map<string, number>,
  record: (what: () => Promise<unknown>) => void,
): void {
  if (event.type === 'step.completed' && !event.resumed) {
    record(() =>
      journal.recordStep(runId, { step: event.step, call: event.call, ok: true, value: event.value }),
    )
  } else if (event.type === 'step.failed') {
    const call = calls.get(event.step) ?? 1
    const error = (event.error as { code?: string } | undefined)?.code ?? describeFailure(event.error)
    record(() => journal.recordStep(runId, { step: event.step, call, ok: false, error }))
  }
  if (event.type === 'step.started') calls.set(event.step, event.call)
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}

function logEvent(log: Logger, event: FlowEvent): void {
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
        },
        'run.completed',
      )
      break
    }
    default:
      log.debug({ event: event.type, step: 'step' in event ? event.step : undefined }, event.type)
  }
}

export type { ReplyView }
