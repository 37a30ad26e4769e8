import { KEEP_ENDED_MS } from './journal.ts'
import type { Runs } from './runs.ts'

/** Said under the reply of a run that a shutdown suspended. */
export const RESTART_NOTICE = 'Chorus is restarting; this run will continue in a moment.'

/**
 * Queues every run the journal says is unfinished (after a crash, a deploy or a kill). Whichever
 * worker takes one reuses its finished steps and updates the same reply (see `work`).
 */
export async function resume(runs: Runs): Promise<{ queued: number }> {
  await runs.store.prune(Date.now() - KEEP_ENDED_MS)
  const unfinished = await runs.store.unfinished()
  for (const run of unfinished) await runs.queue.enqueue(run.id)
  // Parked runs cost nothing until their deadline (one that passed while all was down: now).
  const parked = await runs.store.parkedRuns()
  for (const { id, wakeAt } of parked) {
    const at = wakeAt ?? Date.now()
    await runs.queue.enqueue(id, { at, key: `at-${at}` })
  }
  if (parked.length > 0) runs.logger.info({ event: 'journal.parked', runs: parked.length }, 'journal.parked')
  return { queued: unfinished.length }
}

/**
 * Graceful shutdown: accept nothing new, give live runs up to `graceMs` to finish, then suspend
 * the rest (their replies say they continue after the restart; the journal keeps them).
 */
export async function shutdown(
  runs: Runs,
  graceMs: number,
): Promise<{ finished: number; suspended: number }> {
  runs.accepting = false
  await runs.queue.pause()
  const live = [...runs.live.values()]
  let timer: ReturnType<typeof setTimeout> | undefined
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs)
  })
  await Promise.race([Promise.allSettled(live.map((r) => r.done)), grace])
  clearTimeout(timer)
  const rest = [...runs.live.values()]
  for (const run of rest) run.suspend(RESTART_NOTICE)
  await Promise.allSettled(rest.map((r) => r.done))
  return { finished: live.length - rest.length, suspended: rest.length }
}
