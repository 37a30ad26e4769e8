import type { ButtonInteraction, ModalSubmitInteraction, RepliableInteraction } from 'discord.js'
import type { Logger } from 'pino'
import { DRAINING_MESSAGE, type RetryOutcome } from '../../../src/bot/index.ts'
import type { DiscordTarget } from '../../../src/store/index.ts'
import { NO_MENTIONS } from '../render.ts'
import { ephemeral } from './answer.ts'
import { type Context, requesterOf, targetOf } from './context.ts'

/**
 * Again, Retry and Refine: admitted like a command; the interaction's deferred reply becomes the new
 * run's message (under the one it came from), or says why the run did not start.
 */
export function rerun(
  { bot, log }: Context,
  interaction: ButtonInteraction | ModalSubmitInteraction,
  failedEvent: string,
  start: (target: DiscordTarget, options: { placeholder: Promise<unknown> }) => Promise<RetryOutcome>,
): void {
  if (!bot.accepting) {
    void ephemeral(log, interaction, DRAINING_MESSAGE)
    return
  }
  bot
    .admit(requesterOf(interaction))
    .then((admission) => {
      if (!admission.ok) return ephemeral(log, interaction, admission.message)
      const placeholder = interaction.deferReply()
      explainRefusal(log, interaction, placeholder, start(targetOf(interaction), { placeholder }))
    })
    .catch((err: unknown) => log.error({ err }, failedEvent))
}

/** A rerun that did not start says why in the deferred reply made for it. */
function explainRefusal(
  log: Logger,
  interaction: RepliableInteraction,
  placeholder: Promise<unknown>,
  outcome: Promise<RetryOutcome>,
): void {
  outcome
    .then(async (o) => {
      if (o.ok) return
      await placeholder.catch(() => undefined)
      await interaction
        .editReply({ content: o.message, allowedMentions: NO_MENTIONS })
        .catch((err: unknown) => log.error({ err }, 'discord.reply_failed'))
    })
    .catch((err: unknown) => log.error({ err }, 'discord.rerun_failed'))
}
