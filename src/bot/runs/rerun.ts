import type { ReplyTarget, RunRecord } from '../../store/index.ts'
import { asMarkdown } from '../reply/index.ts'
import { accept } from './intake.ts'
import { FINAL_STEP, REFINE_KEY, type Refine, refineSchema } from './refine.ts'
import type { Runs } from './runs.ts'
import type { RerunOptions, RetryOutcome } from './types.ts'

/** Retry: the same command with the same input, as a new run for whoever asked, replying at `target`. */
export function retry(
  runs: Runs,
  runId: string,
  by: string,
  target: ReplyTarget,
  options: RerunOptions,
): Promise<RetryOutcome> {
  // Again on a refined reply runs the refined request again, not the original.
  return rerun(runs, runId, by, target, options, async (run) => {
    const kept = refineSchema.safeParse(run.input[REFINE_KEY])
    return kept.success ? kept.data : undefined
  })
}

/**
 * Refine: the same command and input, run again with the run's final result and what should
 * change as context for every model call, as a new run for whoever asked, replying at `target`.
 */
export function refine(
  runs: Runs,
  runId: string,
  request: string,
  by: string,
  target: ReplyTarget,
  options: RerunOptions,
): Promise<RetryOutcome> {
  return rerun(runs, runId, by, target, options, async (run) => {
    const final = (await runs.store.completedSteps(run.id)).find((s) => s.step === FINAL_STEP)
    if (final === undefined)
      return { message: 'Chorus no longer has that result in its journal; run the command again.' }
    const refine = refineSchema.safeParse({ previous: asMarkdown(final.value), request })
    return refine.success ? refine.data : { message: 'Say in at most 2,000 characters what should change.' }
  })
}

/** A new run of a journaled run's command and input, with the refine context `context` gives (or a refusal). */
async function rerun(
  runs: Runs,
  runId: string,
  by: string,
  target: ReplyTarget,
  options: RerunOptions,
  context: (run: RunRecord) => Promise<Refine | { message: string } | undefined>,
): Promise<RetryOutcome> {
  const run = await runs.store.get(runId)
  if (run === undefined) {
    return { ok: false, message: 'Chorus no longer has that run in its journal; run the command again.' }
  }
  const command = runs.commands.get(run.command)
  if (command === undefined) return { ok: false, message: `Chorus no longer has /${run.command}.` }
  const parsed = runs.commands.flowOf(command).input.safeParse(run.input)
  if (!parsed.success) return { ok: false, message: `That input no longer fits ${command.usage}.` }
  const refine = await context(run)
  if (refine !== undefined && 'message' in refine) return { ok: false, message: refine.message }
  const { runId: id } = await accept(
    runs,
    {
      command,
      input: {
        ...(parsed.data as Record<string, unknown>),
        ...(refine === undefined ? {} : { [REFINE_KEY]: refine }),
      },
      user: by,
      ...(options.userId === undefined ? {} : { userId: options.userId }),
      target,
      ...(options.placeholder === undefined ? {} : { placeholder: options.placeholder }),
      ...(run.traceparent === undefined ? {} : { follows: run.traceparent }),
    },
    options.signal,
  )
  return { ok: true, runId: id }
}
