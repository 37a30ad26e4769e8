import type { QuestionLookup } from '../../../../src/bot/index.ts'
import type { Interaction } from '../../interaction.ts'
import { questionIdOf, questionModal } from '../../render-question.ts'
import { ephemeral, FAILED_TEXT } from '../answer.ts'
import { show } from '../asks.ts'
import type { Context } from '../context.ts'

/** Discord: a modal is the first response, within 3 s, and cannot follow a deferral; past this, say so instead. */
const LOOKUP_MS = 2_000
const SLOW_TEXT = 'Chorus is slow to answer right now; press **Answer…** again in a moment.'

/** A form's Answer… button: the form's modal for whoever may answer it, else why not (ephemerally). */
export function openQuestionForm({ bot, log }: Context, interaction: Interaction, rest: string): void {
  const { runId, key } = questionIdOf(rest)
  let timer: NodeJS.Timeout | undefined
  const slow = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, LOOKUP_MS, undefined)
  })
  Promise.race<QuestionLookup | undefined>([bot.question(runId, key, interaction.user.id), slow])
    .then(async (found) => {
      clearTimeout(timer)
      if (found === undefined) return ephemeral(log, interaction, SLOW_TEXT)
      if (found.ok) return interaction.showModal(questionModal(found.view))
      return show({ log }, interaction, {
        kind: 'refused',
        message: found.message,
        ...(found.view === undefined ? {} : { view: found.view }),
      })
    })
    .catch(async (err: unknown) => {
      clearTimeout(timer)
      log.error({ err }, 'discord.question_form_failed')
      if (!interaction.state.replied && !interaction.state.deferred)
        await ephemeral(log, interaction, FAILED_TEXT)
    })
}
