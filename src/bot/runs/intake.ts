import { randomUUID } from 'node:crypto'
import { ChorusError } from '../../errors.ts'
import type { NewRun } from '../../store/index.ts'
import { execute } from './execute.ts'
import type { Live, Runs } from './runs.ts'
import type { AcceptRequest, StartRequest } from './types.ts'

/** A new command's answer while this process shuts down. */
export const DRAINING_MESSAGE = 'Chorus is restarting; try again in a few seconds.'
/** A new command's answer while the run store does not answer (or answers too late). */
export const STORE_DOWN_MESSAGE =
  'Chorus cannot take commands right now: it cannot reach its run store. Nothing was started; try again in a minute.'
/** A new command's answer when the run store refused its journal write. */
export const STORE_FAILED_MESSAGE =
  'Chorus could not take this command: its run journal could not be written (the details are in its log). Nothing was started; try again in a minute.'
/**
 * A command's journal write, admission and queueing get this long before it is refused: Slack and
 * Discord want an answer within 3 s, and a refusal is a clear answer where silence is an error.
 */
const INTAKE_BOUND_MS = 2_300

/** Why a new command cannot be taken now (a shutdown, the store unreachable), or undefined. */
export function refusal(runs: Runs): string | undefined {
  if (!runs.accepting) return DRAINING_MESSAGE
  if (runs.health?.up === false) return STORE_DOWN_MESSAGE
  return undefined
}

/**
 * Runs a command's intake within the platforms' 3 s: if the store has not answered by
 * INTAKE_BOUND_MS, it resolves `{ refused }`, and `signal` tells `accept` to drop the run should its
 * journal write land later.
 */
export async function intake<T>(
  runs: Runs,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T | { refused: string }> {
  const refused = refusal(runs)
  if (refused !== undefined) return { refused }
  const abort = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<{ refused: string }>((resolve) => {
    timer = setTimeout(() => {
      abort.abort()
      runs.logger.warn({ event: 'intake.refused', boundMs: INTAKE_BOUND_MS }, 'intake.refused')
      resolve({ refused: STORE_DOWN_MESSAGE })
    }, INTAKE_BOUND_MS)
  })
  try {
    return await Promise.race([work(abort.signal), bound])
  } catch (err) {
    // The store refused a write (a full disk, a read-only data dir, Redis out of memory): the
    // user hears it, the log has the details, and nothing was started.
    runs.logger.error({ err, event: 'intake.failed' }, 'intake.failed')
    abort.abort()
    return { refused: err instanceof ChorusError ? err.message : STORE_FAILED_MESSAGE }
  } finally {
    clearTimeout(timer)
  }
}

/** Journals a platform command and queues it; resolves once both are done, so the platform can be acknowledged. */
export async function accept(
  runs: Runs,
  req: AcceptRequest,
  signal?: AbortSignal,
): Promise<{ runId: string }> {
  const run: NewRun = {
    id: randomUUID(),
    command: req.command.name,
    input: req.input,
    user: req.user,
    ...(req.userId === undefined ? {} : { userId: req.userId }),
    target: req.target,
    createdAt: Date.now(),
  }
  // A tracer opens the run's trace here; its context is journaled with the run for whichever worker takes it.
  const traced = runs.observer.accepting?.(run, req.target.platform, req.follows)
  if (traced !== undefined) run.traceparent = traced.traceparent
  try {
    await journalAndQueue(runs, run, req, signal)
    traced?.end()
  } catch (error) {
    traced?.end(error)
    throw error
  }
  return { runId: run.id }
}

async function journalAndQueue(runs: Runs, run: NewRun, req: AcceptRequest, signal?: AbortSignal) {
  await runs.store.create(run)
  if (req.placeholder !== undefined) {
    try {
      await req.placeholder
    } catch (error) {
      await runs.store.finish(run.id, 'abandoned', { note: 'the platform refused the acknowledgement' })
      throw error
    }
    await runs.store.markDelivered(run.id, 'placeholder')
  }
  if (signal?.aborted) {
    // The user was told nothing started (the store answered too late): the journal agrees.
    await runs.store.finish(run.id, 'abandoned', { note: 'refused: the store answered too late' })
    throw new Error('the store answered after the command was refused')
  }
  await runs.queue.enqueue(run.id)
}

/** Runs a command whose reply is not journaled (the console). */
export function start(runs: Runs, req: StartRequest): Live {
  return execute(runs, {
    runId: randomUUID(),
    command: req.command,
    input: req.input,
    user: req.user,
    platform: req.platform,
    sink: req.sink,
    minIntervalMs: req.minIntervalMs ?? 1_000,
    deadlineMs: req.deadlineMs,
    asker: req.asker,
    journaled: false,
    acceptedAt: Date.now(),
  })
}
