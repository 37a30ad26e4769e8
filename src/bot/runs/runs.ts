import type { Logger } from 'pino'
import type { z } from 'zod'
import type { Config } from '../../config/index.ts'
import type { LanguageModel } from '../../llm/index.ts'
import type { Limiter, RunQueue, WorkOutcome } from '../../queue/index.ts'
import type { RunRecord, RunStore } from '../../store/index.ts'
import type { EditBudget } from '../budgets/index.ts'
import type { Commands } from '../commands/index.ts'
import type { BotObserver } from '../observer.ts'
import type { Platform } from '../platform.ts'
import type { ReplySink } from '../reply/index.ts'
import { type RunJournal, record } from './journal.ts'
import { ModelChoice } from './model-choice.ts'
import type { CommandRun } from './types.ts'

/** A run live in this process; `suspended` once a shutdown handed it back to the journal. */
export interface Live extends CommandRun {
  suspended: boolean
  /** One of its questions was decided elsewhere: read them again. */
  wake(): void
}

/** What the runs of one process share: the commands, the backends, the platforms and the live runs. */
export class Runs {
  readonly config: Config
  readonly model: LanguageModel
  readonly logger: Logger
  readonly limiter: Limiter
  readonly store: RunStore
  readonly queue: RunQueue
  /** Edits to each platform route, shared by every run in this process. */
  readonly budget: EditBudget
  readonly observer: BotObserver
  readonly commands: Commands
  readonly models: ModelChoice
  /** Whether the store answers now (Redis); while it does not, new commands are refused at once. */
  readonly health: { readonly up: boolean } | undefined
  /** Runs in progress here, for Stop and shutdown. */
  readonly live = new Map<string, Live>()
  /** Where resumed and retried runs rebuild their sinks, by platform name. */
  readonly platforms = new Map<string, Platform>()
  /** Queued runs this process works, until each settles. */
  readonly working = new Map<string, Promise<WorkOutcome>>()
  /**
   * The zod schemas of form questions asked by runs live here, by `<runId>/<question id>`: answers
   * taken here are checked with the flow's own schema (and its messages); elsewhere with its JSON Schema.
   */
  readonly forms = new Map<string, z.ZodType>()
  /** False once shutdown began. */
  accepting = true
  /** The models steps call, each as the observer wrapped it. */
  readonly #observed = new Map<LanguageModel, LanguageModel>()

  constructor(parts: {
    config: Config
    model: LanguageModel
    logger: Logger
    commands: Commands
    store: RunStore
    queue: RunQueue
    limiter: Limiter
    budget: EditBudget
    observer: BotObserver
    health: { readonly up: boolean } | undefined
  }) {
    this.config = parts.config
    this.model = parts.model
    this.models = new ModelChoice(parts.model, parts.config.CHORUS_MODELS)
    this.logger = parts.logger
    this.limiter = parts.limiter
    this.commands = parts.commands
    this.store = parts.store
    this.queue = parts.queue
    this.budget = parts.budget
    this.observer = parts.observer
    this.health = parts.health
  }

  /** The run's child logger. */
  logOf(run: RunRecord): Logger {
    return this.logger.child({
      runId: run.id,
      flow: run.command,
      platform: run.target.platform,
      user: run.user,
    })
  }

  /**
   * The run's reply sink, rebuilt from its target; a changed target (the message id) is journaled,
   * through the run's `journal` when it has one (with the view it was shown for, in one write).
   */
  sinkFor(run: RunRecord, platform: Platform, log: Logger, journal?: RunJournal): ReplySink {
    return platform.sink(run.target, {
      runId: run.id,
      log,
      budget: this.budget,
      observer: this.observer,
      save:
        journal === undefined
          ? (next) => record(log, () => this.store.setTarget(run.id, next))
          : (next) => journal.target(next),
    })
  }

  /** The model a step uses, wrapped once by the observer (calls, tokens and errors by model). */
  observed(model: LanguageModel): LanguageModel {
    let wrapped = this.#observed.get(model)
    if (wrapped === undefined) {
      wrapped = this.observer.model?.(model) ?? model
      this.#observed.set(model, wrapped)
    }
    return wrapped
  }
}
