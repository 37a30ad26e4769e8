import type { StopOutcome } from '../../../../src/bot/index.ts'
import type { Interaction } from '../../interaction.ts'
import { ephemeral, FAILED_TEXT } from '../answer.ts'
import { type Context, nameOf } from '../context.ts'

/** Discord: a click is answered within 3 s; Stop waits this long for its outcome before it defers. */
const STOP_DECIDE_MS = 1_500

/** What Stop says to the clicker when there is nothing to stop; a stopped run's own reply says the rest. */
const STOP_WORDS: Partial<Record<StopOutcome, string>> = {
  finished: 'That run has already finished.',
  unknown: 'Chorus has no record of that run any more, so there is nothing to stop.',
}

/** Stop under a working reply: cancels the run wherever it is worked, or says why there is nothing to stop. */
export function stop({ bot, log }: Context, interaction: Interaction, runId: string): void {
  // Discord answers a click once. A run being stopped gets a deferred update (its reply will say
  // who stopped it); nothing to stop gets the ephemeral word as the answer itself. An outcome
  // slower than STOP_DECIDE_MS is deferred first and followed up, inside the 3 s.
  let deferral: Promise<unknown> | undefined
  const timer = setTimeout(() => {
    deferral = interaction.deferUpdate()
  }, STOP_DECIDE_MS)
  bot
    .stop(runId, nameOf(interaction))
    .then(
      (outcome) => STOP_WORDS[outcome],
      (err: unknown) => {
        log.error({ err }, 'discord.stop_failed')
        return FAILED_TEXT
      },
    )
    .then(async (word) => {
      clearTimeout(timer)
      if (deferral !== undefined) await deferral
      if (word !== undefined) await ephemeral(log, interaction, word)
      else if (deferral === undefined) await interaction.deferUpdate()
    })
    .catch((err: unknown) => log.error({ err }, 'discord.stop_failed'))
}
