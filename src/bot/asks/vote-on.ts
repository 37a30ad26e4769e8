import type { ReplyTarget } from '../../store/index.ts'
import type { RerunOptions, RetryOutcome } from '../runs/index.ts'
import type { Runs } from '../runs/runs.ts'

/** **Vote on these**: see `Bot.voteOn`. */
export async function voteOn(
  runs: Runs,
  runId: string,
  by: string,
  target: ReplyTarget,
  options: RerunOptions,
): Promise<RetryOutcome> {
  void runs
  void runId
  void by
  void target
  void options
  return { ok: false, message: 'Vote on these is not ready yet.' }
}
