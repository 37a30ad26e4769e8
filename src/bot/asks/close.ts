import type { RunRecord } from '../../store/index.ts'
import type { Runs } from '../runs/runs.ts'
import { withdraw } from './answer.ts'
import { viewOf } from './spec.ts'

/** A run ended from the journal (stopped while parked, abandoned): its open questions close, their messages say why. */
export async function closeQuestions(runs: Runs, run: RunRecord, why: string): Promise<void> {
  const platform = runs.platforms.get(run.target.platform)
  const log = runs.logOf(run)
  try {
    for (const q of await runs.store.questions(run.id)) {
      if (q.decision !== undefined) continue
      const closed = await withdraw(runs, q, why)
      if (q.message !== undefined && platform?.editQuestion !== undefined)
        await platform
          .editQuestion(run.target, q.message, viewOf(closed), { log })
          .catch((err: unknown) =>
            log.warn({ err, event: 'ask.edit_failed', question: q.id }, 'ask.edit_failed'),
          )
    }
  } catch (err) {
    log.warn({ err, event: 'ask.close_failed' }, 'ask.close_failed')
  }
}
