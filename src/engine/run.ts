/**
 * A flow run: the state machine that starts a step when its trigger fires, settles it, hands its
 * outcome to its listeners and ends the run. Its pieces live beside it: one call of a step
 * (call.ts, attempt.ts), the straggler grace, resume, step records, the outside cutoff.
 */
import { randomUUID } from 'node:crypto'
import type { z } from 'zod'
import { Call, type CallHost } from './call.ts'
import { Cutoff } from './cutoff.ts'
import {
  CallLimitError,
  CancelledError,
  FinalNotReachedError,
  type StragglerError,
  UpstreamFailedError,
} from './errors.ts'
import { EventLog, type FlowEvent, type FlowEventBody } from './events.ts'
import type { Flow, NodeDef, UsageReport } from './flow.ts'
import type { GateShape } from './gate-shape.ts'
import type { AllGate, Fire, Gate, Outcome } from './gates.ts'
import { gateFor } from './gates.ts'
import { buildGraph, type Graph, routed, routerOf } from './graph.ts'
import { DEFAULT_STEP_OPTIONS, type RunOptions } from './options.ts'
import { StepRecords } from './records.ts'
import { type RunResult, runStatus, type StepFailure } from './result.ts'
import { Resumed } from './resume.ts'
import { StragglerGrace } from './straggler.ts'
import type { Trigger } from './triggers.ts'

/** A running flow: iterate it for events, await `result`, or `cancel` it. */
export interface RunHandle<R, F> extends AsyncIterable<FlowEvent> {
  readonly runId: string
  readonly flow: string
  readonly result: Promise<RunResult<R, F>>
  /** Aborts every in-flight step's signal and starts nothing new. */
  cancel(reason?: string): void
  /**
   * Ends the run with what it has (a spent token budget): in-flight steps other than `final` are
   * cancelled with `reason` and no step but `final` starts, so a partial `all` joins the successes.
   */
  curtail(reason: string): void
}

/** Starts a flow run. Throws at once if the input or the graph is invalid; nothing has run then. */
export function runFlow<S extends z.ZodType, R, F>(
  flow: Flow<S, R, F>,
  input: z.input<S>,
  options: RunOptions = {},
): RunHandle<R, F> {
  const parsed = flow.input.parse(input)
  const graph = buildGraph(flow, parsed)
  const run = new Run<R, F>(graph, parsed, options)
  run.kickoff()
  return {
    runId: run.runId,
    flow: graph.flow,
    result: run.result,
    cancel: (reason) => run.cancel(reason ?? 'cancelled'),
    curtail: (reason) => run.curtail(reason),
    [Symbol.asyncIterator]: () => run.log.read(),
  }
}

class Run<R, F> implements CallHost {
  readonly runId: string
  readonly options: RunOptions
  readonly log = new EventLog<FlowEvent>()
  readonly result: Promise<RunResult<R, F>>
  readonly #graph: Graph
  readonly #t0 = performance.now()
  #stamp: number | undefined
  /** By node index, made when a listener is first offered an outcome. */
  readonly #gates: Array<Gate | undefined> = []
  readonly #steps: StepRecords
  readonly #inflight = new Set<Call>()
  readonly #usage: UsageReport = { promptTokens: 0, completionTokens: 0, calls: 0 }
  #epoch = 0
  #resolve!: (r: RunResult<R, F>) => void
  #done = false
  /** Set once nothing new may start: cancelled, past the deadline, or the final step settled. */
  #stopping = false
  #cancelReason: string | undefined
  /** Set by `curtail`: only `final` may still start. */
  #curtailed: string | undefined
  /** Only with a signal or a deadline. */
  readonly #cutoff: Cutoff | undefined
  #final: Outcome | undefined
  #first: Outcome | undefined
  /** Only when resuming. */
  readonly #resumed: Resumed | undefined
  readonly #input: unknown
  #nextId = 1
  #finalEventId: number | undefined
  readonly #grace: StragglerGrace

  constructor(graph: Graph, input: unknown, options: RunOptions) {
    this.#graph = graph
    this.#input = input
    this.options = options
    this.#resumed =
      options.resume !== undefined && options.resume.length > 0 ? new Resumed(options.resume) : undefined
    this.#cutoff = options.signal !== undefined || options.deadlineMs !== undefined ? new Cutoff() : undefined
    this.#grace = new StragglerGrace(options.graceMs, (node, gate, steps, error, causeId) =>
      this.#expire(node, gate, steps, error, causeId),
    )
    this.runId = options.runId ?? randomUUID()
    this.#steps = new StepRecords(this.runId, graph.nodes)
    this.result = new Promise((resolve) => {
      this.#resolve = resolve
    })
  }

  kickoff(): void {
    const { flow, shape } = this.#graph
    const started = {
      type: 'run.started',
      runId: this.runId,
      flow,
      at: 0,
      steps: shape.steps,
      input: this.#input,
    }
    const startedId = this.emit(started as FlowEventBody, undefined)
    if (this.#cutoff?.start(this.options, (reason) => this.cancel(reason)) === false) return
    this.#stamped(() => {
      for (const node of this.#graph.nodes)
        if (node.kind === 'start') this.#invoke(node, undefined, startedId)
      this.#checkDone()
    })
  }

  cancel(reason: string): void {
    if (this.#done || this.#cancelReason !== undefined) return
    this.#cancelReason = reason
    this.#stopping = true
    for (const call of this.#inflight) call.abort(new CancelledError(reason))
    this.#checkDone()
  }

  curtail(reason: string): void {
    if (this.#done || this.#stopping || this.#curtailed !== undefined) return
    this.#curtailed = reason
    for (const call of this.#inflight)
      if (call.node !== this.#graph.final) call.abort(new CancelledError(reason))
  }

  /** Within one settlement, or the kickoff, everything is stamped with the time it began. */
  now(): number {
    return this.#stamp ?? performance.now() - this.#t0
  }

  /** Runs `fn` with `now()` fixed at the time it began. */
  #stamped(fn: () => void): void {
    this.#stamp = performance.now() - this.#t0
    try {
      fn()
    } finally {
      this.#stamp = undefined
    }
  }

  addUsage(usage: UsageReport): void {
    this.#usage.promptTokens += usage.promptTokens
    this.#usage.completionTokens += usage.completionTokens
    this.#usage.calls += usage.calls
  }

  /** Numbers the event, logs it, hands it to `onEvent`; returns its id. */
  emit(body: FlowEventBody, causeId: number | undefined): number {
    const event = body as FlowEvent
    event.id = this.#nextId++
    event.causeId = causeId
    this.log.push(event)
    const onEvent = this.options.onEvent
    if (onEvent === undefined) return event.id
    try {
      onEvent(event)
    } catch (error) {
      queueMicrotask(() => this.cancel(`onEvent threw: ${(error as Error)?.message ?? String(error)}`))
    }
    return event.id
  }

  #invoke(node: NodeDef, payload: unknown, causeId: number): void {
    if (this.#stopping) return
    const record = this.#steps.get(node)
    const maxCalls = node.options.maxCalls ?? this.options.defaults?.maxCalls ?? DEFAULT_STEP_OPTIONS.maxCalls
    if (record.calls >= maxCalls) {
      this.#skip(node, new CallLimitError(node.name, maxCalls), causeId)
      return
    }
    const journaled = this.#resumed?.outcome(node.name, record.calls + 1)
    const call = new Call(this, node, record, this.#epoch, payload)
    call.resumed = journaled !== undefined
    this.#inflight.add(call)
    call.eventId = this.emit(this.#steps.start(node, call.startedAt, journaled !== undefined), causeId)
    if (journaled !== undefined) call.settle(journaled)
    else if (this.#curtailed !== undefined && node !== this.#graph.final)
      call.settle({ ok: false, error: new CancelledError(this.#curtailed), cancelled: true })
    else call.start()
  }

  settled(call: Call, outcome: Outcome): void {
    this.#stamped(() => this.#settle(call, outcome))
  }

  #settle(call: Call, settled: Outcome): void {
    this.#inflight.delete(call)
    this.#epoch++
    const { node } = call
    const at = this.now()
    const { label, outcome } = routed(node, settled)
    const eventId = this.emit(this.#steps.settle(node, outcome, at, call), call.eventId)
    this.#outputs(node, outcome, eventId)
    this.#propagate(node, call.epoch, outcome, eventId)
    if (label !== undefined) {
      const routedId = this.emit(
        { type: 'router.routed', runId: this.runId, step: node.name, label, at },
        eventId,
      )
      this.#deliver(label, call.epoch, { ok: true, value: call.payload }, routedId)
    }
    this.#checkDone()
  }

  /** A listener whose trigger failed (or a step past its call limit): it settles as failed without running. */
  #skip(node: NodeDef, error: unknown, causeId: number): void {
    const eventId = this.emit(this.#steps.skip(node, error, this.now()), causeId)
    const outcome: Outcome = { ok: false, error, cancelled: false }
    this.#outputs(node, outcome, eventId)
    this.#propagate(node, this.#epoch, outcome, eventId)
  }

  /** Hands a step's outcome to its listeners; a router that did not route also fails its labels' listeners. */
  #propagate(node: NodeDef, epoch: number, outcome: Outcome, eventId: number): void {
    this.#deliver(node.name, epoch, outcome, eventId)
    if (node.kind === 'router' && !outcome.ok)
      for (const label of node.labels) this.#deliver(label, epoch, outcome, eventId)
  }

  #outputs(node: NodeDef, outcome: Outcome, eventId: number): void {
    if (node === this.#graph.first && this.#first === undefined && outcome.ok) {
      this.#first = outcome
      this.emit(
        { type: 'run.first', runId: this.runId, step: node.name, value: outcome.value, at: this.now() },
        eventId,
      )
    }
    if (node === this.#graph.final && this.#final === undefined) {
      this.#final = outcome
      this.#finalEventId = eventId
      if (this.#graph.afterFinal === 'finish') return
      // The result is decided: stop what is still running rather than leave it unobserved.
      this.#stopping = true
      for (const call of this.#inflight) call.abort(new CancelledError('the final step settled'))
    }
  }

  #deliver(source: string, epoch: number, outcome: Outcome, causeId: number): void {
    const listeners = this.#graph.shape.subscribers.get(source)
    if (listeners === undefined) return
    const { nodes, shape } = this.#graph
    for (const i of listeners) {
      const node = nodes[i] as NodeDef
      let gate = this.#gates[i]
      if (gate === undefined) {
        gate = gateFor(shape.gates[i] as GateShape, node.trigger as Trigger<unknown>)
        this.#gates[i] = gate
      }
      const fire = gate.offer(source, epoch, this.#epoch, outcome)
      if (fire === undefined) {
        if (!this.#stopping) this.#grace.arm(node, gate, causeId)
        continue
      }
      this.#grace.clear(node.name)
      this.#fire(node, fire, causeId)
    }
  }

  #fire(node: NodeDef, fire: Fire, causeId: number): void {
    if (fire.ok) {
      if (fire.cancel !== undefined) this.#cancelSteps(fire.cancel, `'${node.name}' no longer needs it`)
      this.#invoke(node, fire.value, causeId)
    } else if (!this.#stopping) {
      this.#skip(node, this.#failureOf(node.name, fire), causeId)
    }
  }

  /** A straggler's grace ran out: it fails, and its listener fires without it. */
  #expire(node: NodeDef, gate: AllGate, steps: readonly string[], error: StragglerError, causeId: number) {
    if (this.#done || this.#stopping) return
    this.#epoch++
    const fire = gate.expire(this.#epoch, error)
    for (const call of this.#inflight) if (steps.includes(call.node.name)) call.abort(error)
    this.#fire(node, fire, causeId)
    this.#checkDone()
  }

  #failureOf(listener: string, fire: Extract<Fire, { ok: false }>): unknown {
    if (fire.error instanceof UpstreamFailedError) return fire.error
    const failed = routerOf(this.#graph, fire.step)?.name ?? fire.step
    return new UpstreamFailedError(listener, failed, fire.error)
  }

  /** Cancels the in-flight invocations of these steps (all began before the gate fired). */
  #cancelSteps(steps: readonly string[], reason: string): void {
    for (const call of this.#inflight) {
      if (steps.includes(call.node.name)) call.abort(new CancelledError(reason))
    }
  }

  /** The first failure upstream of `final`: why it can no longer run. */
  #rootCause(): StepFailure | undefined {
    const upstream = this.#graph.shape.upstreamOfFinal
    return this.#steps.failures.find((f) => upstream.has(f.step))
  }

  #checkDone(): void {
    if (this.#done || this.#inflight.size > 0) return
    this.#done = true
    this.#cutoff?.stop()
    this.#grace.clearAll()
    const final = this.#final
    const { status, error } = runStatus({
      final,
      deadlineError: this.#cutoff?.error,
      cancelReason: this.#cancelReason,
      notReached: () => new FinalNotReachedError(this.#graph.flow, this.#graph.final.name, this.#rootCause()),
    })
    const result: RunResult<R, F> = {
      runId: this.runId,
      flow: this.#graph.flow,
      status,
      output: final?.ok === true ? (final.value as R) : undefined,
      first: this.#first?.ok === true ? (this.#first.value as F) : undefined,
      error,
      reason: status === 'cancelled' ? this.#cancelReason : undefined,
      steps: this.#steps.list(),
      failures: [...this.#steps.failures],
      durationMs: this.now(),
      usage: { ...this.#usage },
    }
    this.emit({ type: 'run.completed', runId: this.runId, result, at: result.durationMs }, this.#finalEventId)
    this.log.close()
    this.#resolve(result)
  }
}
