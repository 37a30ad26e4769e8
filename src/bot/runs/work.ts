import type { WorkOutcome } from '../../queue/index.ts'
import type { RunRecord } from '../../store/index.ts'
import { workspaceOf } from '../admission/index.ts'
import { type Platform, replyMsOf } from '../platform.ts'
import { abandon } from './close.ts'
import { execute } from './execute.ts'
import { RunJournal } from './journal.ts'
import { REFINE_KEY, refineSchema } from './refine.ts'
import type { Live, Runs } from './runs.ts'

/** A Slack reply older than this is not resumed after a restart: it is closed with a Retry button. */
const RESUME_MAX_AGE_MS = 60 * 60_000
/** A run picked up this soon after it was accepted is a fresh command, not a resumed one. */
const FRESH_MS = 10_000
/** A resumed run needs at least this long to be worth starting before its reply expires. */
const RESUME_MIN_REMAINING_MS = 30_000
/** A run woken by people (past its platform's short window) gets this long to go on, per wake. */
const WOKEN_RUN_MS = 10 * 60_000

/** Works queued runs in this process and obeys Stop requests from other processes. */
export async function startWorking(runs: Runs, concurrency: number): Promise<void> {
  await runs.queue.onStop((runId, by) => runs.live.get(runId)?.cancel(by))
  await runs.queue.work((runId) => work(runs, runId), { concurrency })
}

/** Works one journaled run in this process (see `Bot.work`), known as working until it settles. */
export function work(runs: Runs, runId: string): Promise<WorkOutcome> {
  const working = pickUp(runs, runId).finally(() => runs.working.delete(runId))
  runs.working.set(runId, working)
  return working
}

/** Takes a run from the journal and runs it here, or ends it when its reply can no longer be made in time. */
async function pickUp(runs: Runs, runId: string): Promise<WorkOutcome> {
  try {
    // Read with the record (one round trip on Redis); a run that does not go on leaves it unused.
    const stepsRead = runs.store.completedSteps(runId)
    stepsRead.catch(() => undefined)
    let run = await runs.store.get(runId)
    if (run === undefined || run.status !== 'running' || runs.live.has(runId)) return 'done'
    // Its deadline came (a timer job): taken out of the parking, and its questions decided as it goes.
    if (run.parked) {
      await runs.store.wake(runId)
      run = (await runs.store.get(runId)) ?? run
    }
    const platform = runs.platforms.get(run.target.platform)
    const log = runs.logOf(run)
    if (platform === undefined) {
      log.error({ event: 'run.unavailable' }, `this process cannot answer on ${run.target.platform}`)
      return 'unavailable'
    }
    if (!runs.accepting) return 'suspended'
    if (platform.installed !== undefined && !(await platform.installed(run.target))) {
      // Uninstalled (or its token revoked): nothing can be posted there, and nobody is waiting.
      log.warn({ event: 'run.workspace_removed' }, 'run.workspace_removed')
      await runs.store.finish(run.id, 'abandoned', { note: 'The app was removed from this workspace.' })
      return 'done'
    }
    if (runs.commands.get(run.command) === undefined) {
      await abandon(runs, run, `Chorus no longer has /${run.command}, so this run could not continue.`)
      return 'done'
    }
    if (run.delivered.includes('final')) {
      // The final reached the user just before a process died; only the journal missed it.
      await runs.store.finish(run.id, 'completed')
      return 'done'
    }
    const now = Date.now()
    const { remaining, replyLeft } = limitsOf(platform, run, now)
    const age = now - run.createdAt
    // A run that waited for people is as old as their answers made it: only its reply's edits count.
    const tooOld = remaining === undefined && age > RESUME_MAX_AGE_MS && !wokeLate(platform, run)
    // A fresh command starts while its reply can be edited, even with its run time spent: its
    // deadline cuts it off with a clear word. A resumed one with too little time left is closed
    // instead of being started to be cut off.
    const tooLate =
      (replyLeft !== undefined && replyLeft <= 0) ||
      (remaining !== undefined && age > FRESH_MS && remaining < RESUME_MIN_REMAINING_MS)
    if (tooOld || tooLate) {
      log.warn({ event: 'run.abandoned', ageMs: now - run.createdAt, remaining }, 'run.abandoned')
      await abandon(runs, run, 'Chorus restarted and this run could not be finished in time.')
      return 'done'
    }
    const steps = await stepsRead
    if (steps.length > 0 || run.delivered.length > 1) {
      log.info({ event: 'run.resumed', steps: steps.length, delivered: run.delivered }, 'run.resumed')
    }
    const live = fromJournal(runs, run, steps)
    await live.done
    return live.suspended ? 'suspended' : 'done'
  } catch (err) {
    runs.logger.error({ err, runId }, 'run.crashed')
    return 'done'
  }
}

/** Executes a journaled run: its sink rebuilt from its target, its finished steps not called again. */
function fromJournal(
  runs: Runs,
  run: RunRecord,
  steps: Array<{ step: string; call: number; value: unknown }>,
): Live {
  const platform = runs.platforms.get(run.target.platform)
  if (platform === undefined) throw new Error(`no platform '${run.target.platform}' attached`)
  const command = runs.commands.get(run.command)
  if (command === undefined) throw new Error(`no flow for command '${run.command}'`)
  const log = runs.logOf(run)
  const now = Date.now()
  const { remaining, replyLeft } = limitsOf(platform, run, now)
  const journal = new RunJournal(runs.store, run.id, log, remaining)
  const sink = runs.sinkFor(run, platform, log, journal)
  const { [REFINE_KEY]: refineValue, ...input } = run.input
  const refine = refineSchema.safeParse(refineValue)
  return execute(runs, {
    runId: run.id,
    command,
    input,
    ...(refine.success ? { refine: refine.data } : {}),
    user: run.user,
    userId: run.userId,
    wakes: run.wakes,
    platform: run.target.platform,
    sink,
    minIntervalMs: platform.minIntervalMs,
    deadlineMs: remaining,
    ...(replyLeft === undefined ? {} : { replyClosesAt: now + replyLeft }),
    journaled: true,
    journal,
    workspace: workspaceOf(run.target),
    resume: steps,
    delivered: run.delivered,
    offsetMs: steps.length > 0 || run.delivered.length > 0 ? Date.now() - run.createdAt : 0,
    acceptedAt: run.createdAt,
    traceparent: run.traceparent,
  })
}

/** A run woken by people, whose reply can still be edited after the platform's short window. */
function wokeLate(platform: Platform, run: RunRecord): boolean {
  return (run.wakes > 0 || run.parked) && (platform.lateEdits?.(run.target) ?? false)
}

/**
 * How long the run may take and its reply be edited: the platform's windows, or, for a run woken by
 * people that the platform can edit late (the bot token), a fresh WOKEN_RUN_MS and no reply limit.
 */
function limitsOf(
  platform: Platform,
  run: RunRecord,
  now: number,
): { remaining: number | undefined; replyLeft: number | undefined } {
  const remaining = platform.remainingMs(run.target, now)
  const replyLeft = replyMsOf(platform, run.target, now)
  if (!wokeLate(platform, run)) return { remaining, replyLeft }
  return { remaining: remaining === undefined ? undefined : WOKEN_RUN_MS, replyLeft: undefined }
}
