import type { ReplyTarget } from '../../store/index.ts'
import { accept } from '../runs/intake.ts'
import { FINAL_STEP } from '../runs/refine.ts'
import type { Runs } from '../runs/runs.ts'
import type { RerunOptions, RetryOutcome } from '../runs/types.ts'

/** A vote offers at most this many of the ranked ideas (Slack and Discord show 5 buttons in a row). */
const MOST_OPTIONS = 5

/** **Vote on these**: see `Bot.voteOn`. */
export async function voteOn(
  runs: Runs,
  runId: string,
  by: string,
  target: ReplyTarget,
  options: RerunOptions,
): Promise<RetryOutcome> {
  const decide = runs.commands.get('decide')
  if (decide === undefined)
    return { ok: false, message: 'Chorus has no /decide here, so it cannot hold a vote.' }
  const run = await runs.store.get(runId)
  const final =
    run === undefined
      ? undefined
      : (await runs.store.completedSteps(runId)).find((s) => s.step === FINAL_STEP)
  if (run === undefined || final === undefined)
    return { ok: false, message: 'Chorus no longer has those ideas in its journal; run the command again.' }
  const ideas = ideasIn(String(final.value)).slice(0, MOST_OPTIONS)
  if (ideas.length < 2) return { ok: false, message: 'There are not two ideas in that reply to vote on.' }
  const topic = String(run.input.topic ?? run.input.question ?? 'these ideas')
  const parsed = runs.commands.flowOf(decide).input.safeParse({
    question: `Which should we go with: ${topic}`.slice(0, 500),
    choices: ideas.join('\n'),
  })
  if (!parsed.success) return { ok: false, message: 'Those ideas do not fit a /decide vote.' }
  const { runId: id } = await accept(
    runs,
    {
      command: decide,
      input: parsed.data as Record<string, unknown>,
      user: by,
      ...(options.userId === undefined ? {} : { userId: options.userId }),
      target,
      ...(options.placeholder === undefined ? {} : { placeholder: options.placeholder }),
    },
    options.signal,
  )
  return { ok: true, runId: id }
}

/** The list items of a ranked reply, in order: "1. **Pulse**: …" or "- **Pulse**: …". */
function ideasIn(markdown: string): string[] {
  return [...markdown.matchAll(/^\s*(?:\d+[.)]|[-*•])\s+(.+)$/gm)]
    .map((m) => (m[1] as string).replace(/\s+—\s+ranked .*$/, '').trim())
    .filter((line) => line.length > 0)
    .map((line) => line.replace(/\|/g, '/'))
    .map((line) => (line.length > 300 ? `${line.slice(0, 299)}…` : line))
}
