import type { Logger } from 'pino'
import { type AnyFlow, type Asker, type FlowEvent, type RunResult, runFlow } from '../../engine/index.ts'
import { DEFAULT_PRICES, type LanguageModel } from '../../llm/index.ts'
import { dailyKey, dailyTtlMs } from '../admission/index.ts'
import { JournalAsker } from '../asks/asker.ts'
import { closesText } from '../asks/text.ts'
import type { Command } from '../commands/index.ts'
import type { BotObserver, RunInfo } from '../observer.ts'
import type { PlatformName } from '../platform.ts'
import { ReplyPump, type ReplySink, titleOf, ViewBuilder } from '../reply/index.ts'
import { RunJournal, record } from './journal.ts'
import { RunMeter } from './meter.ts'
import { modelName } from './model-choice.ts'
import { Parker } from './park.ts'
import { type Refine, refining } from './refine.ts'
import { logEvent } from './run-log.ts'
import type { Live, Runs } from './runs.ts'
import { stepModel } from './step-model.ts'

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

/** One run to execute in this process: a fresh command, or a journaled run picked up again. */
export interface Execution {
  runId: string
  command: Command
  input: Record<string, unknown>
  user: string
  /** The requester's platform user id (who answers questions meant for them); default `user`. */
  userId?: string | undefined
  platform: PlatformName
  sink: ReplySink
  minIntervalMs: number
  /** A run that is not journaled: who answers its questions. Journaled runs ask through the journal. */
  asker?: Asker | undefined
  /** A journaled run's wake count when it was read (see runs/park.ts). */
  wakes?: number
  deadlineMs: number | undefined
  /** When the reply can no longer be edited (epoch ms), if ever. */
  replyClosesAt?: number
  journaled: boolean
  /** A journaled run's journal, when its sink was built to write through it (see `Runs.sinkFor`). */
  journal?: RunJournal
  /** Whose daily token budget the run spends. */
  workspace?: string | undefined
  resume?: Array<{ step: string; call: number; value: unknown }>
  delivered?: string[]
  offsetMs?: number
  acceptedAt: number
  refine?: Refine
  /** The trace context journaled with the run (a tracer continues its trace). */
  traceparent?: string | undefined
}

/** How the reply ends besides the flow's result: who pressed Stop, or the notice of a suspended run. */
interface Ending {
  stoppedBy: string | undefined
  suspendNotice: string | undefined
  /** Parked: waiting for people; woken at this time at the latest (a question's deadline). */
  parked?: { wakeAt: number | undefined }
}

/** What drives one run's reply from its events. */
interface Driver {
  log: Logger
  info: RunInfo
  observer: BotObserver
  pump: ReplyPump
  views: ViewBuilder
  meter: RunMeter
  journal: RunJournal | undefined
  ending: Ending
  /** Queues the run again at `at` (a parked run's earliest deadline). */
  wakeAt(at: number): Promise<void>
}

/**
 * Runs a flow for a command in this process: each step's model chosen and metered against the token
 * budgets, the steps journaled, the reply built from the events and paced; the run can be stopped or
 * suspended until it is done.
 */
export function execute(runs: Runs, req: Execution): Live {
  const flow = runs.commands.flowOf(req.command)
  const { runId } = req
  const log = runs.logger.child({ runId, flow: flow.name, platform: req.platform, user: req.user })
  const journal = req.journaled
    ? (req.journal ?? new RunJournal(runs.store, runId, log, req.deadlineMs))
    : undefined
  const info: RunInfo = {
    runId,
    flow: flow.name,
    platform: req.platform,
    acceptedAt: req.acceptedAt,
    resumed: (req.offsetMs ?? 0) > 0,
    requester: req.userId ?? req.user,
    traceparent: req.traceparent,
  }
  const shown = deferred(req.delivered?.includes('placeholder') === true)
  const pump = pumpOf(runs, req, log, info, journal, shown.resolve)
  const views = viewsOf(runs, req, flow)
  const modelOf = (step: string) => runs.models.of(flow, step)
  const meter = meterOf(runs, req, log, modelOf, () => handle.curtail('the token budget was reached'))
  const onText = streamer(views, pump)
  const ending: Ending = { stoppedBy: undefined, suspendNotice: undefined }
  const asks = asksOf(runs, req, log, ending, shown.promise, (reason) => handle.cancel(reason))
  const handle = runFlow(flow, req.input, {
    runId,
    ...(asks.asker === undefined ? {} : { asker: asks.asker }),
    services: (step) => {
      const model = runs.observed(modelOf(step.step))
      const traced = runs.observer.stepModel?.(info, step, model) ?? model
      const llm = stepModel(refined(traced, req.refine), step, (text) => {
        journal?.streamed(step.step)
        onText(step.step, text)
      })
      return { llm }
    },
    limiter: runs.limiter,
    defaults: STEP_DEFAULTS,
    graceMs: STRAGGLER_GRACE_MS,
    // No floor: a run whose time is already spent (a Discord token near its end) is cut off at once,
    // while its reply can still say so.
    ...(req.deadlineMs === undefined ? {} : { deadlineMs: Math.max(0, req.deadlineMs) }),
    ...(req.resume === undefined ? {} : { resume: req.resume }),
    // Synchronous with the event, so a kill right after a step finished still finds it journaled.
    onEvent: (event: FlowEvent): void => {
      if (event.type === 'usage') meter.add(event.step, event.usage)
      journal?.step(event)
      asks.parker?.event(event)
    },
  })
  // A resumed run replays its journal in microtasks; show the reply only once that is applied.
  if (req.resume !== undefined && req.resume.length > 0) pump.hold(new Promise((r) => setImmediate(r)))
  const wakeAt = wakerOf(runs, runId, log)
  const driver = { log, info, observer: runs.observer, pump, views, meter, journal, ending, wakeAt }
  const run: Live = {
    runId,
    suspended: false,
    cancel: (by) => {
      ending.stoppedBy ??= by
      handle.cancel(`stopped by ${by}`)
    },
    wake: () => {
      void asks.journal?.wake().then(() => asks.parker?.check())
    },
    suspend: (notice) => {
      if (!req.journaled || ending.stoppedBy !== undefined || ending.parked !== undefined) return
      ending.suspendNotice ??= notice
      run.suspended = true
      asks.journal?.leave()
      handle.cancel('Chorus is shutting down')
    },
    done: drive(handle, driver).finally(() => runs.live.delete(runId)),
  }
  runs.live.set(runId, run)
  return run
}

/** Logs and observes each event, updates the reply, and ends it when the run completes. */
async function drive(events: AsyncIterable<FlowEvent>, d: Driver): Promise<RunResult> {
  for await (const event of events) {
    logEvent(d.log, event)
    // A run parked or suspended here has not ended: the metrics count it when it does.
    const handedOn = d.ending.parked !== undefined || d.ending.suspendNotice !== undefined
    if (!(event.type === 'run.completed' && handedOn)) d.observer.event?.(d.info, event)
    else d.observer.handedOn?.(d.info, d.ending.parked !== undefined ? 'parked' : 'suspended')
    // Awaited here, so the event stream is let go only once the reply is finished.
    if (event.type === 'run.completed') return await end(event.result, d)
    const view = d.views.apply(event)
    if (view !== undefined) d.pump.push(view)
  }
  throw new Error('run ended without run.completed')
}

/** The run's last view and its end in the journal; a suspended or parked run's reply says it continues instead. */
async function end(result: RunResult, d: Driver): Promise<RunResult> {
  const { pump, views, meter, journal, log, ending } = d
  if (ending.parked !== undefined) {
    const { wakeAt } = ending.parked
    const until = wakeAt === undefined ? '' : ` (${closesText(wakeAt)})`
    pump.end(views.withNotice(`Waiting for answers to go on${until}.`))
    await pump.drained
    log.info({ event: 'run.parked', wakeAt }, 'run.parked')
    if (wakeAt !== undefined) await d.wakeAt(wakeAt)
    return result
  }
  if (ending.suspendNotice !== undefined) {
    pump.end(views.withNotice(ending.suspendNotice))
    await pump.drained
    log.info({ event: 'run.suspended' }, 'run.suspended')
    return result
  }
  // Kept before the reply shows it, so Refine on the reply finds it.
  if (journal !== undefined && result.status === 'completed') await journal.final(result.output)
  const usage = meter.line()
  pump.push({ ...views.finish(result, ending.stoppedBy), ...(usage.calls > 0 ? { usage } : {}) })
  if (meter.reached) log.info({ event: 'run.budget_reached', usage }, 'run.budget_reached')
  await pump.drained
  if (journal !== undefined) await journal.finish(result, ending.stoppedBy, usage)
  return result
}

/** The run's reply pump: it knows what the user already sees, and journals each view as it is shown. */
function pumpOf(
  runs: Runs,
  req: Execution,
  log: Logger,
  info: RunInfo,
  journal: RunJournal | undefined,
  onFirstShown: () => void,
): ReplyPump {
  const delivered = new Set(req.delivered ?? [])
  const observer = runs.observer
  return new ReplyPump(req.sink, req.minIntervalMs, log, {
    budget: runs.budget,
    ...(req.replyClosesAt === undefined ? {} : { closesAt: req.replyClosesAt }),
    onWaited: (priority, ms) => observer.budgetWaited?.(req.platform, priority, ms),
    ...(delivered.has('first')
      ? { shownStatus: 'first' as const }
      : delivered.has('placeholder')
        ? { shownStatus: 'working' as const }
        : {}),
    onShown: (view) => {
      onFirstShown()
      observer.shown?.(info, view)
      const kind = view.status === 'working' ? 'placeholder' : view.status === 'first' ? 'first' : 'final'
      if (view.notice !== undefined || delivered.has(kind)) return
      delivered.add(kind)
      journal?.delivered(kind)
    },
  })
}

function viewsOf(runs: Runs, req: Execution, flow: AnyFlow): ViewBuilder {
  return new ViewBuilder({
    runId: req.runId,
    command: req.command.name,
    title: titleOf(req.command, req.input, req.refine),
    user: req.user,
    noun: req.command.noun,
    demo: runs.model.demo,
    firstLabel: (flow.meta?.firstLabel as string | undefined) ?? 'First result',
    retryable: req.journaled,
    voteOn: req.journaled && flow.meta?.voteOn === true && runs.commands.get('decide') !== undefined,
    ...(req.offsetMs === undefined ? {} : { offsetMs: req.offsetMs }),
  })
}

/** The run's meter: the usage line, the run's token budget (`curtail` at it) and the workspace's daily spend. */
function meterOf(
  runs: Runs,
  req: Execution,
  log: Logger,
  modelOf: (step: string) => LanguageModel,
  curtail: () => void,
): RunMeter {
  const daily = runs.config.CHORUS_DAILY_TOKEN_BUDGET
  const workspace = req.workspace
  return new RunMeter({
    modelOf: (step) => modelName(modelOf(step)),
    prices: { ...DEFAULT_PRICES, ...runs.config.CHORUS_PRICES },
    budget: runs.config.CHORUS_RUN_TOKEN_BUDGET,
    // After the event's own microtasks, so the call whose usage reached the budget keeps its answer.
    onBudget: () => setImmediate(curtail),
    spend: (tokens) => {
      if (daily === undefined || workspace === undefined) return
      const now = Date.now()
      record(log, () => runs.store.spend(dailyKey(req.platform, workspace, now), tokens, dailyTtlMs(now)))
    },
  })
}

/**
 * A branch's text as it is written: at most one view per turn of the event loop however many
 * pieces arrive in it; the pump keeps only the newest and paces them.
 */
function streamer(views: ViewBuilder, pump: ReplyPump): (step: string, text: string) => void {
  let queued = false
  return (step, text) => {
    if (!views.stream(step, text) || queued) return
    queued = true
    setImmediate(() => {
      queued = false
      const view = views.streamingView()
      if (view !== undefined) pump.push(view)
    })
  }
}

/** A refined run's model gets the earlier result and the request before every prompt. */
function refined(model: LanguageModel, refine: Refine | undefined): LanguageModel {
  return refine === undefined ? model : refining(model, refine)
}

/** Who answers the run's questions: the journal (a journaled run, which can park) or the caller's asker. */
function asksOf(
  runs: Runs,
  req: Execution,
  log: Logger,
  ending: Ending,
  replyShown: Promise<void>,
  cancel: (reason: string) => void,
): { asker: Asker | undefined; journal?: JournalAsker; parker?: Parker } {
  if (!req.journaled) return { asker: req.asker }
  const onChange = (): void => parker.check()
  const park = (wakeAt: number | undefined): void => {
    ending.parked = { wakeAt }
    journal.leave()
    cancel('waiting for people')
  }
  const journal = new JournalAsker({
    runs,
    runId: req.runId,
    requester: { id: req.userId ?? req.user, name: req.user },
    platform: req.platform === 'console' ? undefined : runs.platforms.get(req.platform),
    log,
    onChange,
    replyShown,
  })
  const parker = new Parker({ runs, runId: req.runId, wakes: req.wakes ?? 0, asker: journal, log, park })
  return { asker: journal, journal, parker }
}

/** Queues a parked run again at its earliest deadline. */
function wakerOf(runs: Runs, runId: string, log: Logger): (at: number) => Promise<void> {
  return (at) =>
    runs.queue
      .enqueue(runId, { at, key: `at-${at}` })
      .catch((err: unknown) => log.error({ err }, 'run.wake_schedule_failed'))
}

/** A promise and its resolve; resolved already when `done`. */
function deferred(done: boolean): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => {
    resolve = r
  })
  if (done) resolve()
  return { promise, resolve }
}
