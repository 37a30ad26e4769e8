import type { RunRecord } from '../../store/index.ts'
import { closeQuestions } from '../asks/close.ts'
import { replyMsOf } from '../platform.ts'
import { titleOf, ViewBuilder } from '../reply/index.ts'
import type { Runs } from './runs.ts'

/** Ends a journaled run that will not run here (too late, or its flow is gone), saying why. */
export async function abandon(runs: Runs, run: RunRecord, note: string): Promise<void> {
  if (!(await runs.store.finish(run.id, 'abandoned', { note }))) return
  await close(runs, run, { error: `${note} Press Retry to run it again.` })
  await closeQuestions(runs, run, 'the run could not go on.')
}

/** Shows a closing view on a run's reply from the journal alone (no flow runs). */
export async function close(
  runs: Runs,
  run: RunRecord,
  how: { stoppedBy: string } | { error: string },
): Promise<void> {
  const platform = runs.platforms.get(run.target.platform)
  const command = runs.commands.get(run.command)
  if (platform === undefined) return
  const log = runs.logOf(run)
  const replyLeft = replyMsOf(platform, run.target, Date.now())
  if (replyLeft !== undefined && replyLeft <= 0 && platform.lateEdits?.(run.target) !== true) {
    log.info({ event: 'reply.expired' }, 'reply.expired')
    return
  }
  const views = new ViewBuilder({
    runId: run.id,
    command: run.command,
    title: command === undefined ? `/${run.command}` : titleOf(command, run.input),
    user: run.user,
    noun: command?.noun ?? 'results',
    demo: runs.model.demo,
    firstLabel: 'First result',
    retryable: true,
    offsetMs: Date.now() - run.createdAt,
  })
  try {
    await runs.sinkFor(run, platform, log).show(views.close(how))
  } catch (err) {
    log.error({ err }, 'reply.show_failed')
  }
}
