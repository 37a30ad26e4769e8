import type { Logger } from 'pino'
import type { EditBudget, EditPriority, Turn } from '../budgets/index.ts'
import { isTerminal, type Phase, phaseOf, type ReplySink, type ReplyView } from './types.ts'

/**
 * Delivers views to a sink: never two `show` calls at once; progress views (and more of a streamed
 * text) at least `minIntervalMs` apart with only the newest kept; a first result is never dropped
 * for the final that follows it; the first streamed text, the first result and the terminal view go
 * out as soon as the previous call returns and the platform budget grants a turn (final before
 * first before progress, across every run on the route); the terminal view (or the view given to
 * `end`) is always the last one shown.
 */
export class ReplyPump {
  readonly #sink: ReplySink
  readonly #minIntervalMs: number
  readonly #log: Logger
  readonly #onShown: ((view: ReplyView) => void) | undefined
  readonly #budget: EditBudget | undefined
  readonly #onWaited: ((priority: EditPriority, ms: number) => void) | undefined
  readonly #closesAt: number | undefined
  /** Views still to show: milestones in order, the newest progress view last. */
  #queue: ReplyView[] = []
  #busy = false
  #turn: Turn | undefined
  #held = false
  #lastAt = Number.NEGATIVE_INFINITY
  #timer: ReturnType<typeof setTimeout> | undefined
  #closed = false
  #last = false
  #lastPhase: Phase | undefined
  #drained: Promise<void>
  #resolveDrained!: () => void

  constructor(
    sink: ReplySink,
    minIntervalMs: number,
    log: Logger,
    options: {
      /** Called after each view reached the platform. */
      onShown?: (view: ReplyView) => void
      /** The status the user already sees (a resumed run), so it is not treated as news. */
      shownStatus?: ReplyView['status']
      /** The platform's shared edit budget; without it views go out as soon as the sink is free. */
      budget?: EditBudget
      /** How long a view waited for its budget turn. */
      onWaited?: (priority: EditPriority, ms: number) => void
      /**
       * When the reply can no longer be edited (epoch ms; a Discord token's 15 minutes). A terminal
       * view still waiting for its budget turn then (the shared budget on a Redis that is away) goes
       * out without one shortly before: a reply is never left on "thinking" for want of a turn.
       */
      closesAt?: number
    } = {},
  ) {
    this.#sink = sink
    this.#minIntervalMs = minIntervalMs
    this.#log = log
    this.#onShown = options.onShown
    this.#lastPhase = options.shownStatus
    this.#budget = options.budget
    this.#onWaited = options.onWaited
    this.#closesAt = options.closesAt
    this.#drained = new Promise((resolve) => {
      this.#resolveDrained = resolve
    })
  }

  push(view: ReplyView): void {
    if (this.#closed) return
    if (isTerminal(view.status)) this.#closed = true
    this.#enqueue(view)
  }

  /** Shows `view` as the last one, whatever its status, and closes the pump. */
  end(view: ReplyView): void {
    if (this.#closed) return
    this.#closed = true
    this.#last = true
    this.#enqueue(view)
  }

  /** Nothing is shown until `until` settles (a resumed run replays its journal first). */
  hold(until: Promise<unknown>): void {
    this.#held = true
    until.finally(() => {
      this.#held = false
      this.#pump()
    })
  }

  /** Settles once the terminal view was shown (or failed to show). */
  get drained(): Promise<void> {
    return this.#drained
  }

  #enqueue(view: ReplyView): void {
    // A newer view replaces older ones of its status, any working view and any mere progress (a view
    // of the phase already on screen); a first result not yet shown stays, ahead of the final.
    while (this.#queue.length > 0) {
      const tail = this.#queue.at(-1) as ReplyView
      const progress = tail.status === 'working' || phaseOf(tail) === this.#lastPhase
      if (tail.status !== view.status && !progress) break
      this.#queue.pop()
    }
    this.#queue.push(view)
    this.#turn?.raise(this.#priority())
    this.#pump()
  }

  #priority(): EditPriority {
    if (this.#closed) return 'final'
    if (this.#queue.some((v) => phaseOf(v) !== this.#lastPhase)) return 'first'
    return 'progress'
  }

  #pump(): void {
    const head = this.#queue[0]
    if (this.#busy || this.#held || head === undefined) return
    // A change of phase (the first streamed text, the first result, the end) goes out at once;
    // progress, and more of the streamed text, waits its turn.
    const urgent = phaseOf(head) !== this.#lastPhase || this.#closed
    const wait = urgent ? 0 : this.#lastAt + this.#minIntervalMs - performance.now()
    if (wait > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined
        this.#pump()
      }, wait)
      return
    }
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer)
      this.#timer = undefined
    }
    this.#busy = true
    const route = this.#budget === undefined ? undefined : this.#sink.route?.(head)
    if (this.#budget === undefined || route === undefined) {
      this.#show()
      return
    }
    const priority = this.#priority()
    const t0 = performance.now()
    const turn = this.#budget.acquire(route, priority)
    this.#turn = turn
    const lastCall = this.#lastCall(turn)
    turn.granted.then(
      () => {
        clearTimeout(lastCall.timer)
        this.#turn = undefined
        this.#onWaited?.(priority, performance.now() - t0)
        this.#show()
      },
      (error: unknown) => {
        clearTimeout(lastCall.timer)
        this.#turn = undefined
        if (lastCall.fired) this.#log.warn({ event: 'reply.budget_skipped' }, 'reply.budget_skipped')
        else this.#log.error({ err: error }, 'reply.budget_failed')
        this.#show()
      },
    )
  }

  /** Gives up the turn LAST_CALL_MS before the reply closes, once the terminal view waits on it. */
  #lastCall(turn: Turn): { timer: NodeJS.Timeout | undefined; fired: boolean } {
    const call: { timer: NodeJS.Timeout | undefined; fired: boolean } = { timer: undefined, fired: false }
    if (this.#closesAt === undefined) return call
    const arm = (): void => {
      const ms = (this.#closesAt as number) - LAST_CALL_MS - Date.now()
      call.timer = setTimeout(
        () => {
          // Only the terminal view is worth spending the last moments on; progress keeps waiting.
          if (!this.#closed) return arm()
          call.fired = true
          turn.cancel()
        },
        Math.max(0, Math.min(ms, 2 ** 31 - 1)),
      )
    }
    arm()
    return call
  }

  /** Shows the newest head of the queue (it may have changed while waiting for the turn). */
  #show(): void {
    const view = this.#queue.shift() as ReplyView
    this.#lastPhase = phaseOf(view)
    const last = this.#closed && this.#queue.length === 0 && (this.#last || isTerminal(view.status))
    this.#sink
      .show(view)
      .then(
        () => this.#onShown?.(view),
        (error: unknown) => this.#log.error({ err: error, status: view.status }, 'reply.show_failed'),
      )
      .finally(() => {
        this.#busy = false
        this.#lastAt = performance.now()
        if (last && this.#queue.length === 0) this.#resolveDrained()
        else this.#pump()
      })
  }
}

/** A terminal view waiting for a budget turn this close to the reply's end goes out without one. */
const LAST_CALL_MS = 3_000
