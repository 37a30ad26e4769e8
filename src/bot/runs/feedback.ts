import type { PlatformName } from '../platform.ts'
import { KEEP_ENDED_MS, record } from './journal.ts'
import type { Runs } from './runs.ts'

/** A rating is counted once per person, run and rating for as long as the run is kept. */
const FEEDBACK_TTL_MS = KEEP_ENDED_MS

/**
 * 👍/👎 on a reply: logged with the run id, its flow and whoever rated it, and counted in the
 * metrics once per person, run and rating (a second click on the same button is logged, not counted).
 */
export async function feedback(
  runs: Runs,
  runId: string,
  rating: 'up' | 'down',
  by: string,
  platform: PlatformName,
): Promise<void> {
  const log = runs.logger
  const [run, first] = await Promise.all([
    runs.store.get(runId).catch((err: unknown) => void log.error({ err }, 'journal.read_failed')),
    runs.store.claim(`feedback:${runId}:${rating}:${by}`, FEEDBACK_TTL_MS).catch((err: unknown) => {
      log.error({ err }, 'journal.write_failed')
      return true
    }),
  ])
  const flow = run?.command ?? 'unknown'
  log.info({ event: 'reply.feedback', runId, flow, platform, rating, by, counted: first }, 'reply.feedback')
  if (!first) return
  runs.observer.feedback?.({ flow, platform }, rating)
  // Kept on the run for the inspector: only counted ratings, and only on a run the journal has.
  if (run !== undefined) record(log, () => runs.store.rate(runId, rating))
}
