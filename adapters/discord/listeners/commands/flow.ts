import type { Interaction } from '../../interaction.ts'
import { tokenLeftMs } from '../../token.ts'
import { ephemeral, FAILED_TEXT, refuse } from '../answer.ts'
import { type Context, nameOf, requesterOf, targetOf } from '../context.ts'

/** Said to a command whose interaction token had expired when it reached Chorus. */
export const TOKEN_EXPIRED_TEXT =
  "This command reached Chorus after Discord's 15 minutes for answering it were over; please run it again."

/** A flow's slash command: checked, admitted, journaled and deferred; the deferred reply becomes the run's. */
export function flowCommand({ bot, log }: Context, interaction: Interaction): void {
  const cmd = bot.command(interaction.commandName)
  if (cmd === undefined) {
    void ephemeral(
      log,
      interaction,
      `Chorus has no /${interaction.commandName} any more; ask an admin to run \`npm run discord:register\`.`,
    )
    return
  }
  const target = targetOf(interaction)
  // Discord's webhook refuses a token past its 15 minutes: a command that arrives with none left
  // (a clock far off Discord's) gets its answer now instead of a reply that could never change.
  const left = tokenLeftMs(target, Date.now())
  if (left <= 0) {
    log.warn(
      { event: 'discord.token_expired', interaction: interaction.id, leftMs: left },
      'discord.token_expired',
    )
    void ephemeral(log, interaction, TOKEN_EXPIRED_TEXT)
    return
  }
  const values = Object.fromEntries(interaction.options.map((o) => [o.name, o.value]))
  const parsed = bot.parseOptions(cmd, values)
  // Discord: the first response must arrive within 3 s. Validation is synchronous, so the answer
  // (an ephemeral usage message, or the deferral) is sent before anything else is awaited.
  if (!parsed.ok) {
    void ephemeral(log, interaction, parsed.message)
    return
  }
  const user = nameOf(interaction)
  // The admission, the journal write and the queueing answer inside Discord's 3 s, or the user hears why not.
  bot
    .intake(async (signal): Promise<string | undefined> => {
      const admission = await bot.admit(requesterOf(interaction))
      if (!admission.ok) return admission.message
      // The journal write comes first (a few microseconds), then the deferral: a crash in between
      // leaves a journaled run that the next start resumes or closes.
      const t0 = performance.now()
      const placeholder = interaction.deferReply()
      placeholder.then(
        () => bot.observer.acked?.('discord', performance.now() - t0),
        () => {},
      )
      await bot.accept(
        { command: cmd, input: parsed.input, user, userId: interaction.user.id, target, placeholder },
        signal,
      )
      return undefined
    })
    .then(async (outcome) => {
      const text = typeof outcome === 'object' ? outcome.refused : outcome
      if (text !== undefined) await refuse(log, interaction, text)
    })
    .catch(async (err: unknown) => {
      log.error({ err, interaction: interaction.id }, 'discord.command_failed')
      await ephemeral(log, interaction, FAILED_TEXT)
    })
}
