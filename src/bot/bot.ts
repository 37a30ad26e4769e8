import { randomUUID } from 'node:crypto'
import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import { FairLimiter, type FlowEvent, type RunResult, runFlow } from '../engine/index.ts'
import { ChorusError } from '../errors.ts'
import { createModel, DEFAULT_PRICES, type LanguageModel } from '../llm/index.ts'
import { createLogger } from '../log/index.ts'
import { type Limiter, LocalQueue, type RunQueue, type WorkOutcome } from '../queue/index.ts'
import type { NewRun, ReplyTarget, RunRecord, RunStore } from '../store/index.ts'
import { SqliteStore } from '../store/index.ts'
import {
  type Admission,
  admit,
  dailyKey,
  dailyTtlMs,
  type Requester,
  workspaceOf,
} from './admission/index.ts'
import { type EditBudget, MemoryEditBudget } from './budgets/index.ts'
import { type Command, Commands, loadFlows, type ParseResult } from './commands/index.ts'
import { RunMeter } from './meter.ts'
import { stepModel } from './model.ts'
import { judgeStepOf, ModelChoice, modelName } from './models.ts'
import type { BotObserver, RunInfo } from './observer.ts'
import { FINAL_STEP, REFINE_KEY, type Refine, refineSchema, refining } from './refine.ts'
import {
  asMarkdown,
  describeFailure,
  ReplyPump,
  type ReplySink,
  type ReplyView,
  titleOf,
  ViewBuilder,
} from './reply/index.ts'
import type {
  AcceptRequest,
  Platform,
  PlatformName,
  RetryOutcome,
  StartRequest,
  StopOutcome,
} from './requests.ts'
import { logEvent } from './run-log.ts'
import type { CommandRun } from './types.ts'

/**
 * Per-step defaults: a step call gets 90 s in all (every try and the waits between them, not time
 * queued for a slot), transient errors are retried within that.
 */
const STEP_DEFAULTS = {
  timeoutMs: 90_000,
  retries: { attempts: 3, baseMs: 500, maxMs: 8_000, maxRetryAfterMs: 20_000 },
}
/** A Slack reply older than this is not resumed after a restart: it is closed with a Retry button. */
const RESUME_MAX_AGE_MS = 60 * 60_000
/** A run picked up this soon after it was accepted is a fresh command, not a resumed one. */
const FRESH_MS = 10_000
/** A resumed run needs at least this long to be worth starting before its reply expires. */
const RESUME_MIN_REMAINING_MS = 30_000
/** Ended runs stay in the journal this long, so Retry and Stop can still find them. */
const KEEP_ENDED_MS = 7 * 24 * 60 * 60_000
/** A rating is counted once per person, run and rating for as long as the run is kept. */
const FEEDBACK_TTL_MS = KEEP_ENDED_MS

export const RESTART_NOTICE = 'Chorus is restarting; this run will continue in a moment.'
export const DRAINING_MESSAGE = 'Chorus is restarting; try again in a few seconds.'
export const STORE_DOWN_MESSAGE =
  'Chorus cannot take commands right now: it cannot reach its run store. Nothing was started; try again in a minute.'
export const STORE_FAILED_MESSAGE =
  'Chorus could not take this command: its run journal could not be written (the details are in its log). Nothing was started; try again in a minute.'
/**
 * A command's journal write, admission and queueing get this long before it is refused: Slack and
 * Discord want an answer within 3 s, and a refusal is a clear answer where silence is an error.
 */
const INTAKE_BOUND_MS = 2_300
/** A journal write at the end of a run waits for the store at most this long when the run has no reply deadline. */
const FINAL_WRITE_BOUND_MS = 10 * 60_000

/** How a rerun (Retry, Again, Refine) is accepted: the platform's placeholder, and `intake`'s signal. */
interface RerunOptions {
  placeholder?: Promise<unknown>
  signal?: AbortSignal
}

interface Live extends CommandRun {
  suspended: boolean
}

/** A partial join waits at most this long for its last input once the others are in. */
const STRAGGLER_GRACE_MS = 20_000

/** The platform-neutral bot: the command registry, input parsing and runs with their replies. */
export class Bot {
  readonly config: Config
  readonly model: LanguageModel
  readonly logger: Logger
  readonly limiter: Limiter
  readonly store: RunStore
  readonly queue: RunQueue
  /** Edits to each platform route, shared by every run in this process. */
  readonly budget: EditBudget
  readonly observer: BotObserver
  /** The models steps call, each as the observer wrapped it. */
  readonly #observedModels = new Map<LanguageModel, LanguageModel>()
  readonly #commands: Commands
  readonly #models: ModelChoice
  readonly #active = new Map<string, Live>()
  readonly #platforms = new Map<string, Platform>()
  readonly #working = new Map<string, Promise<WorkOutcome>>()
  readonly #health: { readonly up: boolean } | undefined
  #accepting = true

  private constructor(
    config: Config,
    model: LanguageModel,
    logger: Logger,
    commands: Commands,
    parts: {
      store: RunStore
      queue: RunQueue
      limiter: Limiter
      budget: EditBudget
      observer: BotObserver
      health: { readonly up: boolean } | undefined
    },
  ) {
    this.config = config
    this.model = model
    this.#models = new ModelChoice(model, config.CHORUS_MODELS)
    this.logger = logger
    this.limiter = parts.limiter
    this.#commands = commands
    this.store = parts.store
    this.queue = parts.queue
    this.budget = parts.budget
    this.observer = parts.observer
    this.#health = parts.health
  }

  static async create(options: {
    config: Config
    model?: LanguageModel
    logger?: Logger
    flowsDir?: string
    /** The run journal; default an in-memory one (nothing survives the process). */
    store?: RunStore
    /** How accepted runs reach a worker; default this process. */
    queue?: RunQueue
    /** Bounds model calls in flight, fair between runs; default in this process (CHORUS_CONCURRENCY). */
    limiter?: Limiter
    /** Platform edit budgets; default in this process. */
    budget?: EditBudget
    /** Metrics (src/ops) or other observers of runs and replies. */
    observer?: BotObserver
    /** Whether the store answers now (Redis); while it does not, new commands are refused at once. */
    health?: { readonly up: boolean }
  }): Promise<Bot> {
    const logger = options.logger ?? createLogger(options.config.LOG_LEVEL)
    const model = options.model ?? createModel(options.config)
    const bot = new Bot(options.config, model, logger, new Commands(await loadFlows(options.flowsDir)), {
      store: options.store ?? new SqliteStore(':memory:'),
      queue: options.queue ?? new LocalQueue(),
      limiter: options.limiter ?? new FairLimiter(options.config.CHORUS_CONCURRENCY),
      budget: options.budget ?? new MemoryEditBudget(),
      observer: options.observer ?? {},
      health: options.health,
    })
    // The embedded queue works every run in this process; with a shared queue the caller decides.
    if (options.queue === undefined) await bot.startWorking(Math.max(1, options.config.CHORUS_WORKER_RUNS))
    return bot
  }

  /** Works queued runs in this process and obeys Stop requests from other processes. */
  async startWorking(concurrency: number = this.config.CHORUS_WORKER_RUNS): Promise<void> {
    await this.queue.onStop((runId, by) => this.#active.get(runId)?.cancel(by))
    await this.queue.work((runId) => this.work(runId), { concurrency })
  }

  get commands(): Command[] {
    return this.#commands.list
  }

  command(name: string): Command | undefined {
    return this.#commands.get(name)
  }

  parseText(command: Command, text: string): ParseResult {
    return this.#commands.parseText(command, text)
  }

  parseOptions(command: Command, values: Record<string, unknown>): ParseResult {
    return this.#commands.parseOptions(command, values)
  }

  /** Lets runs answer on this platform; resumed and retried runs rebuild their sinks through it. */
  attach(platform: Platform): void {
    this.#platforms.set(platform.name, platform)
  }

  /** False once shutdown began: adapters answer new commands with DRAINING_MESSAGE. */
  get accepting(): boolean {
    return this.#accepting
  }

  /** Why a new command cannot be taken now (a shutdown, the store unreachable), or undefined. */
  get refusal(): string | undefined {
    if (!this.#accepting) return DRAINING_MESSAGE
    if (this.#health?.up === false) return STORE_DOWN_MESSAGE
    return undefined
  }

  /**
   * Runs a command's intake (redelivery claim, admission, `accept`) within the platforms' 3 s: if the
   * store has not answered by INTAKE_BOUND_MS, it resolves `{ refused }` so the adapter can say so,
   * and `signal` tells `accept` to drop the run should its journal write land later.
   */
  async intake<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T | { refused: string }> {
    const refused = this.refusal
    if (refused !== undefined) return { refused }
    const abort = new AbortController()
    let timer: NodeJS.Timeout | undefined
    const bound = new Promise<{ refused: string }>((resolve) => {
      timer = setTimeout(() => {
        abort.abort()
        this.logger.warn({ event: 'intake.refused', boundMs: INTAKE_BOUND_MS }, 'intake.refused')
        resolve({ refused: STORE_DOWN_MESSAGE })
      }, INTAKE_BOUND_MS)
    })
    try {
      return await Promise.race([work(abort.signal), bound])
    } catch (err) {
      // The store refused a write (a full disk, a read-only data dir, Redis out of memory): the
      // user hears it, the log has the details, and nothing was started.
      this.logger.error({ err, event: 'intake.failed' }, 'intake.failed')
      abort.abort()
      return { refused: err instanceof ChorusError ? err.message : STORE_FAILED_MESSAGE }
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Checks a platform command against the user and channel limits and the daily token budget before
   * it is accepted (or retried), counting it when admitted. Refused: nothing runs, no model is called.
   */
  admit(who: Requester): Promise<Admission> {
    return admit(this.store, this.config, who, Date.now())
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
      acceptedAt: Date.now(),
    })
  }

  /**
   * Journals a platform command and queues it. Resolves once it is journaled and queued, so the
   * platform can be acknowledged knowing the command cannot be lost.
   */
  async accept(req: AcceptRequest, signal?: AbortSignal): Promise<{ runId: string }> {
    const record: NewRun = {
      id: randomUUID(),
      command: req.command.name,
      input: req.input,
      user: req.user,
      target: req.target,
      createdAt: Date.now(),
    }
    await this.store.create(record)
    if (req.placeholder !== undefined) {
      try {
        await req.placeholder
      } catch (error) {
        await this.store.finish(record.id, 'abandoned', { note: 'the platform refused the acknowledgement' })
        throw error
      }
      await this.store.markDelivered(record.id, 'placeholder')
    }
    if (signal?.aborted) {
      // The user was told nothing started (the store answered too late): the journal agrees.
      await this.store.finish(record.id, 'abandoned', { note: 'refused: the store answered too late' })
      throw new Error('the store answered after the command was refused')
    }
    await this.queue.enqueue(record.id)
    return { runId: record.id }
  }

  /**
   * Queues every run the journal says is unfinished (after a crash, a deploy or a kill). Whichever
   * worker takes one reuses its finished steps and updates the same reply (see `work`).
   */
  async resume(): Promise<{ queued: number }> {
    await this.store.prune(Date.now() - KEEP_ENDED_MS)
    const unfinished = await this.store.unfinished()
    for (const record of unfinished) await this.queue.enqueue(record.id)
    return { queued: unfinished.length }
  }

  /**
   * Works one journaled run in this process: steps that already succeeded are not called again
   * (their outputs come from the journal), the rest run, and the same reply is updated. Runs whose
   * reply can no longer be made in time are closed with a note and marked abandoned.
   */
  work(runId: string): Promise<WorkOutcome> {
    const working = this.#work(runId).finally(() => this.#working.delete(runId))
    this.#working.set(runId, working)
    return working
  }

  /** Settles when this process has finished working the run (at once if it is not working it). */
  async settled(runId: string): Promise<void> {
    await this.#working.get(runId)
  }

  async #work(runId: string): Promise<WorkOutcome> {
    try {
      const record = await this.store.get(runId)
      if (record === undefined || record.status !== 'running' || this.#active.has(runId)) return 'done'
      const platform = this.#platforms.get(record.target.platform)
      const log = this.#log(record)
      if (platform === undefined) {
        log.error({ event: 'run.unavailable' }, `this process cannot answer on ${record.target.platform}`)
        return 'unavailable'
      }
      if (!this.#accepting) return 'suspended'
      if (this.#commands.get(record.command) === undefined) {
        await this.#abandon(
          record,
          `Chorus no longer has /${record.command}, so this run could not continue.`,
        )
        return 'done'
      }
      if (record.delivered.includes('final')) {
        // The final reached the user just before a process died; only the journal missed it.
        await this.store.finish(record.id, 'completed')
        return 'done'
      }
      const now = Date.now()
      const remaining = platform.remainingMs(record.target, now)
      const replyLeft = replyMsOf(platform, record.target, now)
      const age = now - record.createdAt
      const tooOld = remaining === undefined && age > RESUME_MAX_AGE_MS
      // A fresh command starts while its reply can be edited, even with its run time spent: its
      // deadline cuts it off with a clear word. A resumed one with too little time left is closed
      // instead of being started to be cut off.
      const tooLate =
        (replyLeft !== undefined && replyLeft <= 0) ||
        (remaining !== undefined && age > FRESH_MS && remaining < RESUME_MIN_REMAINING_MS)
      if (tooOld || tooLate) {
        log.warn({ event: 'run.abandoned', ageMs: now - record.createdAt, remaining }, 'run.abandoned')
        await this.#abandon(record, 'Chorus restarted and this run could not be finished in time.')
        return 'done'
      }
      const steps = await this.store.completedSteps(record.id)
      if (steps.length > 0 || record.delivered.length > 1) {
        log.info({ event: 'run.resumed', steps: steps.length, delivered: record.delivered }, 'run.resumed')
      }
      const run = this.#fromRecord(record, steps)
      await run.done
      return run.suspended ? 'suspended' : 'done'
    } catch (err) {
      this.logger.error({ err, runId }, 'run.crashed')
      return 'done'
    }
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
    // Another process works it: it cancels the run there, and its reply says who stopped it.
    if (await this.queue.isActive(runId)) {
      await this.queue.publishStop(runId, by)
      return 'stopping'
    }
    if (!(await this.store.finish(runId, 'stopped', { stoppedBy: by }))) return 'finished'
    await this.#close(record, { stoppedBy: by })
    return 'stopped'
  }

  /** Retry: the same command with the same input, as a new run for whoever asked, replying at `target`. */
  retry(runId: string, by: string, target: ReplyTarget, options: RerunOptions = {}): Promise<RetryOutcome> {
    // Again on a refined reply runs the refined request again, not the original.
    return this.#rerun(runId, by, target, options, async (record) => {
      const kept = refineSchema.safeParse(record.input[REFINE_KEY])
      return kept.success ? kept.data : undefined
    })
  }

  /**
   * Refine: the same command and input, run again with the run's final result and what should
   * change as context for every model call, as a new run for whoever asked, replying at `target`.
   */
  refine(
    runId: string,
    request: string,
    by: string,
    target: ReplyTarget,
    options: RerunOptions = {},
  ): Promise<RetryOutcome> {
    return this.#rerun(runId, by, target, options, async (record) => {
      const final = (await this.store.completedSteps(record.id)).find((s) => s.step === FINAL_STEP)
      if (final === undefined)
        return { message: 'Chorus no longer has that result in its journal; run the command again.' }
      const refine = refineSchema.safeParse({ previous: asMarkdown(final.value), request })
      return refine.success ? refine.data : { message: 'Say in at most 2,000 characters what should change.' }
    })
  }

  /** A new run of a journaled run's command and input, with the refine context `context` gives (or a refusal). */
  async #rerun(
    runId: string,
    by: string,
    target: ReplyTarget,
    options: RerunOptions,
    context: (record: RunRecord) => Promise<Refine | { message: string } | undefined>,
  ): Promise<RetryOutcome> {
    const record = await this.store.get(runId)
    if (record === undefined) {
      return { ok: false, message: 'Chorus no longer has that run in its journal; run the command again.' }
    }
    const command = this.command(record.command)
    if (command === undefined) return { ok: false, message: `Chorus no longer has /${record.command}.` }
    const parsed = this.#commands.flowOf(command).input.safeParse(record.input)
    if (!parsed.success) return { ok: false, message: `That input no longer fits ${command.usage}.` }
    const refine = await context(record)
    if (refine !== undefined && 'message' in refine) return { ok: false, message: refine.message }
    const { runId: id } = await this.accept(
      {
        command,
        input: {
          ...(parsed.data as Record<string, unknown>),
          ...(refine === undefined ? {} : { [REFINE_KEY]: refine }),
        },
        user: by,
        target,
        ...(options.placeholder === undefined ? {} : { placeholder: options.placeholder }),
      },
      options.signal,
    )
    return { ok: true, runId: id }
  }

  /**
   * 👍/👎 on a reply: logged with the run id, its flow and whoever rated it, and counted in the
   * metrics once per person, run and rating (a second click on the same button is logged, not counted).
   */
  async feedback(runId: string, rating: 'up' | 'down', by: string, platform: PlatformName): Promise<void> {
    const log = this.logger
    const [record, first] = await Promise.all([
      this.store.get(runId).catch((err: unknown) => void log.error({ err }, 'journal.read_failed')),
      this.store.claim(`feedback:${runId}:${rating}:${by}`, FEEDBACK_TTL_MS).catch((err: unknown) => {
        log.error({ err }, 'journal.write_failed')
        return true
      }),
    ])
    const flow = record?.command ?? 'unknown'
    log.info({ event: 'reply.feedback', runId, flow, platform, rating, by, counted: first }, 'reply.feedback')
    if (first) this.observer.feedback?.({ flow, platform }, rating)
  }

  /**
   * Graceful shutdown: accept nothing new, give live runs up to `graceMs` to finish, then suspend
   * the rest (their replies say they continue after the restart; the journal keeps them).
   */
  async shutdown(graceMs: number): Promise<{ finished: number; suspended: number }> {
    this.#accepting = false
    await this.queue.pause()
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

  #fromRecord(record: RunRecord, steps: Array<{ step: string; call: number; value: unknown }>): Live {
    const platform = this.#platforms.get(record.target.platform)
    if (platform === undefined) throw new Error(`no platform '${record.target.platform}' attached`)
    const command = this.command(record.command)
    if (command === undefined) throw new Error(`no flow for command '${record.command}'`)
    const sink = this.#sinkFor(record, platform, this.#log(record))
    const now = Date.now()
    const remaining = platform.remainingMs(record.target, now)
    const replyLeft = replyMsOf(platform, record.target, now)
    const { [REFINE_KEY]: refineValue, ...input } = record.input
    const refine = refineSchema.safeParse(refineValue)
    return this.#execute({
      runId: record.id,
      command,
      input,
      ...(refine.success ? { refine: refine.data } : {}),
      user: record.user,
      platform: record.target.platform,
      sink,
      minIntervalMs: platform.minIntervalMs,
      deadlineMs: remaining,
      ...(replyLeft === undefined ? {} : { replyClosesAt: now + replyLeft }),
      journaled: true,
      workspace: workspaceOf(record.target),
      resume: steps,
      delivered: record.delivered,
      offsetMs: steps.length > 0 || record.delivered.length > 0 ? Date.now() - record.createdAt : 0,
      acceptedAt: record.createdAt,
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
    /** When the reply can no longer be edited (epoch ms), if ever. */
    replyClosesAt?: number
    journaled: boolean
    /** Whose daily token budget the run spends. */
    workspace?: string | undefined
    resume?: Array<{ step: string; call: number; value: unknown }>
    delivered?: string[]
    offsetMs?: number
    acceptedAt: number
    refine?: Refine
  }): Live {
    const flow = this.#commands.flowOf(req.command)
    const { runId } = req
    const log = this.logger.child({ runId, flow: flow.name, platform: req.platform, user: req.user })
    const delivered = new Set(req.delivered ?? [])
    const journal = req.journaled ? this.store : undefined
    const record = (what: () => Promise<unknown>): void => {
      what().catch((err: unknown) => log.error({ err }, 'journal.write_failed'))
    }
    // A write the run waits for waits for the store (an outage delays the run, it does not fail it),
    // but not past the reply's own deadline: then the run ends and the next pick-up finds the rest.
    const boundMs = Math.max(5_000, req.deadlineMs ?? FINAL_WRITE_BOUND_MS)
    const settle = (what: Promise<unknown>): Promise<void> =>
      within(what, boundMs).then(
        (landed) => {
          if (!landed) log.warn({ event: 'journal.write_waited_out', boundMs }, 'journal.write_waited_out')
        },
        (err: unknown) => log.error({ err }, 'journal.write_failed'),
      )
    const calls = new Map<string, number>()
    const info: RunInfo = {
      runId,
      flow: flow.name,
      platform: req.platform,
      acceptedAt: req.acceptedAt,
      resumed: (req.offsetMs ?? 0) > 0,
    }
    const observer = this.observer
    const wrapModel = (m: LanguageModel): LanguageModel =>
      req.refine === undefined ? m : refining(m, req.refine)
    const pump = new ReplyPump(req.sink, req.minIntervalMs, log, {
      budget: this.budget,
      ...(req.replyClosesAt === undefined ? {} : { closesAt: req.replyClosesAt }),
      onWaited: (priority, ms) => observer.budgetWaited?.(req.platform, priority, ms),
      ...(delivered.has('first')
        ? { shownStatus: 'first' as const }
        : delivered.has('placeholder')
          ? { shownStatus: 'working' as const }
          : {}),
      onShown: (view) => {
        observer.shown?.(info, view)
        const kind = view.status === 'working' ? 'placeholder' : view.status === 'first' ? 'first' : 'final'
        if (view.notice !== undefined || delivered.has(kind)) return
        delivered.add(kind)
        if (journal !== undefined) record(() => journal.markDelivered(runId, kind))
      },
    })
    const views = new ViewBuilder({
      runId,
      command: req.command.name,
      title: titleOf(req.command, req.input, req.refine),
      user: req.user,
      noun: req.command.noun,
      demo: this.model.demo,
      firstLabel: (flow.meta?.firstLabel as string | undefined) ?? 'First result',
      retryable: req.journaled,
      ...(req.offsetMs === undefined ? {} : { offsetMs: req.offsetMs }),
    })
    const judgeStep = judgeStepOf(flow.meta)
    const modelOf = (step: string) => this.#models.of(flow.name, judgeStep, step)
    const daily = this.config.CHORUS_DAILY_TOKEN_BUDGET
    const workspace = req.workspace
    const meter = new RunMeter({
      modelOf: (step) => modelName(modelOf(step)),
      prices: { ...DEFAULT_PRICES, ...this.config.CHORUS_PRICES },
      budget: this.config.CHORUS_RUN_TOKEN_BUDGET,
      // After the event's own microtasks, so the call whose usage reached the budget keeps its answer.
      onBudget: () => setImmediate(() => handle.curtail('the token budget was reached')),
      spend: (tokens) => {
        if (daily === undefined || workspace === undefined) return
        const now = Date.now()
        record(() => this.store.spend(dailyKey(req.platform, workspace, now), tokens, dailyTtlMs(now)))
      },
    })
    const onEvent = (event: FlowEvent): void => {
      if (event.type === 'usage') meter.add(event.step, event.usage)
      if (journal !== undefined) journalStep(journal, runId, event, calls, record)
    }
    // A branch's text as it is written: at most one view per turn of the event loop however many
    // pieces arrive in it; the pump keeps only the newest and paces them.
    let streamQueued = false
    const onText = (step: string, text: string): void => {
      if (!views.stream(step, text) || streamQueued) return
      streamQueued = true
      setImmediate(() => {
        streamQueued = false
        const view = views.streamingView()
        if (view !== undefined) pump.push(view)
      })
    }
    const handle = runFlow(flow, req.input, {
      runId,
      services: (step) => ({
        llm: stepModel(wrapModel(this.#observed(modelOf(step.step))), step, (text) =>
          onText(step.step, text),
        ),
      }),
      limiter: this.limiter,
      defaults: STEP_DEFAULTS,
      graceMs: STRAGGLER_GRACE_MS,
      // No floor: a run whose time is already spent (a Discord token near its end) is cut off at once,
      // while its reply can still say so.
      ...(req.deadlineMs === undefined ? {} : { deadlineMs: Math.max(0, req.deadlineMs) }),
      ...(req.resume === undefined ? {} : { resume: req.resume }),
      // Synchronous with the event, so a kill right after a step finished still finds it journaled.
      onEvent,
    })
    // A resumed run replays its journal in microtasks; show the reply only once that is applied.
    if (req.resume !== undefined && req.resume.length > 0) pump.hold(new Promise((r) => setImmediate(r)))
    let stoppedBy: string | undefined
    let suspendNotice: string | undefined
    const done = (async (): Promise<RunResult> => {
      for await (const event of handle) {
        logEvent(log, event)
        observer.event?.(info, event)
        if (event.type === 'run.completed') {
          const result = event.result
          if (suspendNotice !== undefined) {
            pump.end(views.withNotice(suspendNotice))
            await pump.drained
            log.info({ event: 'run.suspended' }, 'run.suspended')
            return result
          }
          // Kept before the reply shows it, so Refine on the reply finds it.
          if (journal !== undefined && result.status === 'completed')
            await settle(
              journal.recordStep(runId, {
                step: FINAL_STEP,
                call: 0,
                ok: true,
                value: asMarkdown(result.output),
              }),
            )
          const usage = meter.line()
          pump.push({ ...views.finish(result, stoppedBy), ...(usage.calls > 0 ? { usage } : {}) })
          if (meter.reached) log.info({ event: 'run.budget_reached', usage }, 'run.budget_reached')
          await pump.drained
          if (journal !== undefined) {
            const status =
              result.status === 'completed'
                ? 'completed'
                : result.status === 'cancelled'
                  ? 'stopped'
                  : 'failed'
            await settle(
              journal.finish(runId, status, {
                ...(stoppedBy === undefined ? {} : { stoppedBy }),
                ...(status === 'failed' ? { note: describeFailure(result.error) } : {}),
              }),
            )
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
    const replyLeft = replyMsOf(platform, record.target, Date.now())
    if (replyLeft !== undefined && replyLeft <= 0) {
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
    try {
      await this.#sinkFor(record, platform, log).show(views.close(how))
    } catch (err) {
      log.error({ err }, 'reply.show_failed')
    }
  }

  /** The run's reply sink, rebuilt from its target; a changed target (the message id) is journaled. */
  #sinkFor(record: RunRecord, platform: Platform, log: Logger): ReplySink {
    return platform.sink(record.target, {
      runId: record.id,
      log,
      budget: this.budget,
      observer: this.observer,
      save: (next) => {
        this.store
          .setTarget(record.id, next)
          .catch((err: unknown) => log.error({ err }, 'journal.write_failed'))
      },
    })
  }

  /** The model a step uses, wrapped once by the observer (calls, tokens and errors by model). */
  #observed(model: LanguageModel): LanguageModel {
    let wrapped = this.#observedModels.get(model)
    if (wrapped === undefined) {
      wrapped = this.observer.model?.(model) ?? model
      this.#observedModels.set(model, wrapped)
    }
    return wrapped
  }

  #log(record: RunRecord): Logger {
    return this.logger.child({
      runId: record.id,
      flow: record.command,
      platform: record.target.platform,
      user: record.user,
    })
  }
}

/** True when `what` settles within `ms`, false when it is still pending then (it may land later). */
async function within(what: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([what.then(() => true as const), late])
  } finally {
    clearTimeout(timer)
  }
}

/** How long a run's reply can still be edited at all (undefined: no limit). */
function replyMsOf(platform: Platform, target: ReplyTarget, now: number): number | undefined {
  return platform.replyMs === undefined ? platform.remainingMs(target, now) : platform.replyMs(target, now)
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

export type { AcceptRequest, Platform, PlatformName, ReplyView, RetryOutcome, StartRequest, StopOutcome }
