import type { RetryOutcome } from '../../../src/bot/index.ts'
import type { DiscordTarget } from '../../../src/store/index.ts'
import type { Interaction } from '../interaction.ts'
import { NO_MENTIONS } from '../render.ts'
import { refuse } from './answer.ts'
import { type Context, requesterOf, targetOf } from './context.ts'

/**
 * Again, Retry, Refine and Vote on these: admitted like a command; the interaction's deferred reply
 * becomes the new run's message (under the one it came from), or says why the run did not start. The
 * clicker is the new run's requester (who answers its questions).
 */
export function rerun(
  { bot, log }: Context,
  interaction: Interaction,
  failedEvent: string,
  start: (
    target: DiscordTarget,
    options: { placeholder: Promise<unknown>; signal: AbortSignal; userId: string },
  ) => Promise<RetryOutcome>,
): void {
  // Admitted, journaled and queued inside Discord's 3 s, or the user hears why not.
  bot
    .intake(async (signal) => {
      const admission = await bot.admit(requesterOf(interaction))
      if (!admission.ok) return admission.message
      const placeholder = interaction.deferReply()
      const outcome = await start(targetOf(interaction), {
        placeholder,
        signal,
        userId: interaction.user.id,
      })
      return outcome.ok ? undefined : { placeholder, message: outcome.message }
    })
    .then(async (outcome) => {
      if (outcome === undefined) return
      if (typeof outcome === 'string') return refuse(log, interaction, outcome)
      if ('refused' in outcome) return refuse(log, interaction, outcome.refused)
      // A rerun that did not start says why in the deferred reply made for it.
      await outcome.placeholder.catch(() => undefined)
      await interaction
        .editReply({ content: outcome.message, allowed_mentions: NO_MENTIONS })
        .catch((err: unknown) => log.error({ err }, 'discord.reply_failed'))
    })
    .catch((err: unknown) => log.error({ err }, failedEvent))
}
