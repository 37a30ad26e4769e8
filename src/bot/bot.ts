import type { Logger } from 'pino'
import type { Config } from '../config/index.ts'
import { type AnyFlow, FairLimiter } from '../engine/index.ts'
import { createModel, type LanguageModel } from '../llm/index.ts'
import { createLogger } from '../log/index.ts'
import { type Limiter, LocalQueue, type RunQueue, type WorkOutcome } from '../queue/index.ts'
import { type ReplyTarget, type RunStore, SqliteStore } from '../store/index.ts'
import { type Admission, admit, type Requester } from './admission/index.ts'
import * as asks from './asks/index.ts'
import { type EditBudget, MemoryEditBudget } from './budgets/index.ts'
import { type Command, Commands, loadFlows, type ParseResult } from './commands/index.ts'
import type { BotObserver } from './observer.ts'
import type { Platform, PlatformName } from './platform.ts'
import type {
  AcceptRequest,
  CommandRun,
  RerunOptions,
  RetryOutcome,
  StartRequest,
  StopOutcome,
} from './runs/index.ts'
import * as runs from './runs/index.ts'

/**
 * The platform-neutral bot that adapters use, a facade over its rooms: the commands and their
 * parsing (`commands/`), admission (`admission/`) and the runs on the journal (`runs/`), whose
 * replies are built and paced in `reply/` and spent from `budgets/`.
 */
export class Bot {
  readonly #commands: Commands
  readonly #runs: runs.Runs

  private constructor(shared: runs.Runs) {
    this.#runs = shared
    this.#commands = shared.commands
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
    const { config } = options
    const logger = options.logger ?? createLogger(config.LOG_LEVEL)
    const model = options.model ?? createModel(config)
    const commands = new Commands(await loadFlows(options.flowsDir))
    const bot = new Bot(
      new runs.Runs({
        config,
        model,
        logger,
        commands,
        store: options.store ?? new SqliteStore(':memory:'),
        queue: options.queue ?? new LocalQueue(),
        limiter: options.limiter ?? new FairLimiter(config.CHORUS_CONCURRENCY),
        budget: options.budget ?? new MemoryEditBudget(),
        observer: options.observer ?? {},
        health: options.health,
      }),
    )
    // The embedded queue works every run in this process; with a shared queue the caller decides.
    if (options.queue === undefined) await bot.startWorking(Math.max(1, config.CHORUS_WORKER_RUNS))
    return bot
  }

  get config(): Config {
    return this.#runs.config
  }

  get model(): LanguageModel {
    return this.#runs.model
  }

  get logger(): Logger {
    return this.#runs.logger
  }

  get limiter(): Limiter {
    return this.#runs.limiter
  }

  get store(): RunStore {
    return this.#runs.store
  }

  get queue(): RunQueue {
    return this.#runs.queue
  }

  /** Edits to each platform route, shared by every run in this process. */
  get budget(): EditBudget {
    return this.#runs.budget
  }

  get observer(): BotObserver {
    return this.#runs.observer
  }

  /** Works queued runs in this process and obeys Stop requests from other processes. */
  startWorking(concurrency: number = this.config.CHORUS_WORKER_RUNS): Promise<void> {
    return runs.startWorking(this.#runs, concurrency)
  }

  get commands(): Command[] {
    return this.#commands.list
  }

  command(name: string): Command | undefined {
    return this.#commands.get(name)
  }

  /** The flow behind a command, by name (the run inspector draws it). */
  flow(name: string): AnyFlow | undefined {
    const command = this.#commands.get(name)
    return command === undefined ? undefined : this.#commands.flowOf(command)
  }

  parseText(command: Command, text: string): ParseResult {
    return this.#commands.parseText(command, text)
  }

  parseOptions(command: Command, values: Record<string, unknown>): ParseResult {
    return this.#commands.parseOptions(command, values)
  }

  /** Lets runs answer on this platform; resumed and retried runs rebuild their sinks through it. */
  attach(platform: Platform): void {
    this.#runs.platforms.set(platform.name, platform)
  }

  /** False once shutdown began: adapters answer new commands with DRAINING_MESSAGE. */
  get accepting(): boolean {
    return this.#runs.accepting
  }

  /** Why a new command cannot be taken now (a shutdown, the store unreachable), or undefined. */
  get refusal(): string | undefined {
    return runs.refusal(this.#runs)
  }

  /**
   * Runs a command's intake (redelivery claim, admission, `accept`) within the platforms' 3 s: if the
   * store has not answered in time, it resolves `{ refused }` so the adapter can say so, and `signal`
   * tells `accept` to drop the run should its journal write land later.
   */
  intake<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T | { refused: string }> {
    return runs.intake(this.#runs, work)
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
    return runs.start(this.#runs, req)
  }

  /**
   * Journals a platform command and queues it. Resolves once it is journaled and queued, so the
   * platform can be acknowledged knowing the command cannot be lost.
   */
  accept(req: AcceptRequest, signal?: AbortSignal): Promise<{ runId: string }> {
    return runs.accept(this.#runs, req, signal)
  }

  /**
   * Queues every run the journal says is unfinished (after a crash, a deploy or a kill). Whichever
   * worker takes one reuses its finished steps and updates the same reply (see `work`).
   */
  resume(): Promise<{ queued: number }> {
    return runs.resume(this.#runs)
  }

  /**
   * Works one journaled run in this process: steps that already succeeded are not called again
   * (their outputs come from the journal), the rest run, and the same reply is updated. Runs whose
   * reply can no longer be made in time are closed with a note and marked abandoned.
   */
  work(runId: string): Promise<WorkOutcome> {
    return runs.work(this.#runs, runId)
  }

  /** Settles when this process has finished working the run (at once if it is not working it). */
  async settled(runId: string): Promise<void> {
    await this.#runs.working.get(runId)
  }

  /** Stop, from any process: cancels a live run, or closes one that only the journal still has. */
  stop(runId: string, by: string): Promise<StopOutcome> {
    return runs.stop(this.#runs, runId, by)
  }

  /** Retry: the same command with the same input, as a new run for whoever asked, replying at `target`. */
  retry(runId: string, by: string, target: ReplyTarget, options: RerunOptions = {}): Promise<RetryOutcome> {
    return runs.retry(this.#runs, runId, by, target, options)
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
    return runs.refine(this.#runs, runId, request, by, target, options)
  }

  /**
   * 👍/👎 on a reply: logged with the run id, its flow and whoever rated it, and counted in the
   * metrics once per person, run and rating (a second click on the same button is logged, not counted).
   */
  feedback(runId: string, rating: 'up' | 'down', by: string, platform: PlatformName): Promise<void> {
    return runs.feedback(this.#runs, runId, rating, by, platform)
  }

  /**
   * Graceful shutdown: accept nothing new, give live runs up to `graceMs` to finish, then suspend
   * the rest (their replies say they continue after the restart; the journal keeps them).
   */
  shutdown(graceMs: number): Promise<{ finished: number; suspended: number }> {
    return runs.shutdown(this.#runs, graceMs)
  }

  /**
   * A click or a form submission on a run's question, from any process: who may answer, whether it
   * is still open and whether it fits are checked; it is kept, and decides the question exactly once
   * when it closes it (the run is then woken, wherever it is). The outcome says what to show.
   */
  answer(req: asks.AnswerRequest): Promise<asks.AnswerOutcome> {
    return asks.answer(this.#runs, req)
  }

  /** The question `key` of a run as it is now, or why `userId` may not answer it (before opening a form). */
  question(runId: string, key: string, userId: string): Promise<asks.QuestionLookup> {
    return asks.lookup(this.#runs, runId, key, userId)
  }

  /**
   * **Vote on these**: a finished run's ranked ideas put to the channel as a /decide vote, as a new
   * run for whoever pressed it, replying at `target` (the reply's thread).
   */
  voteOn(runId: string, by: string, target: ReplyTarget, options: RerunOptions = {}): Promise<RetryOutcome> {
    return asks.voteOn(this.#runs, runId, by, target, options)
  }

  /** A run still in progress in this process. */
  get(runId: string): CommandRun | undefined {
    return this.#runs.live.get(runId)
  }

  get activeRuns(): number {
    return this.#runs.live.size
  }
}
