import type { Runs } from '../runs/runs.ts'

/**
 * An answer decided a question of the run, or a deadline passed: a parked run is queued again (any
 * worker continues it); a live one is told, wherever it runs. A wake that lands while the run is
 * being parked makes the park fail (the store counts wakes), so it is never lost.
 */
export async function wakeRun(runs: Runs, runId: string): Promise<void> {
  const log = runs.logger.child({ runId })
  try {
    if (await runs.store.wake(runId)) {
      log.info({ event: 'run.woken' }, 'run.woken')
      await runs.queue.enqueue(runId, { key: `wake-${Date.now().toString(36)}` })
    } else {
      runs.live.get(runId)?.wake()
      await runs.queue.publishWake(runId)
    }
  } catch (err) {
    // The run stays parked with its question decided; the next start's scan or its deadline queues it.
    log.error({ err, event: 'run.wake_failed' }, 'run.wake_failed')
  }
}
