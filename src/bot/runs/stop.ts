import { closeQuestions } from '../asks/close.ts'
import { close } from './close.ts'
import type { Runs } from './runs.ts'
import type { StopOutcome } from './types.ts'

/** Stop, from any process: cancels a live run, or closes one that only the journal still has. */
export async function stop(runs: Runs, runId: string, by: string): Promise<StopOutcome> {
  const live = runs.live.get(runId)
  if (live !== undefined) {
    live.cancel(by)
    return 'stopping'
  }
  const run = await runs.store.get(runId)
  if (run === undefined) return 'unknown'
  if (run.status !== 'running') return 'finished'
  // Another process works it: it cancels the run there, and its reply says who stopped it.
  if (await runs.queue.isActive(runId)) {
    await runs.queue.publishStop(runId, by)
    return 'stopping'
  }
  if (!(await runs.store.finish(runId, 'stopped', { stoppedBy: by }))) return 'finished'
  await close(runs, run, { stoppedBy: by })
  await closeQuestions(runs, run, `the run was stopped by ${by}.`)
  return 'stopped'
}
