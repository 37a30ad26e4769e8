import type {
  ButtonInteraction,
  Interaction,
  ModalSubmitInteraction,
  StringSelectMenuInteraction,
} from 'discord.js'
import { FEEDBACK_PREFIX, REFINE_PREFIX, RETRY_PREFIX, STOP_PREFIX, VOTE_ON_PREFIX } from '../render.ts'
import { ASK_FORM_PREFIX, ASK_MODAL_PREFIX, ASK_PREFIX } from '../render-question.ts'
import { choices } from './autocomplete/choices.ts'
import { flowCommand } from './commands/flow.ts'
import { answerChoice } from './components/ask.ts'
import { openQuestionForm } from './components/ask-form.ts'
import { feedback } from './components/feedback.ts'
import { inactive } from './components/inactive.ts'
import { openRefine } from './components/refine.ts'
import { retry } from './components/retry.ts'
import { stop } from './components/stop.ts'
import { voteOn } from './components/vote-on.ts'
import type { Context, Listener } from './context.ts'
import { submitAnswer } from './modals/ask.ts'
import { submitRefine } from './modals/refine.ts'

export { TOKEN_EXPIRED_TEXT } from './commands/flow.ts'
export { INACTIVE_COMPONENT } from './components/inactive.ts'

type ByPrefix<I> = ReadonlyArray<readonly [prefix: string, listener: Listener<I>]>

/** Buttons by custom id prefix (`render.ts` makes the ids); each listener gets the id's rest. */
const BUTTONS: ByPrefix<ButtonInteraction> = [
  [STOP_PREFIX, stop],
  [RETRY_PREFIX, retry],
  [REFINE_PREFIX, openRefine],
  [FEEDBACK_PREFIX, feedback],
  [VOTE_ON_PREFIX, voteOn],
  [ASK_PREFIX, answerChoice],
  [ASK_FORM_PREFIX, openQuestionForm],
]

/** String selects by custom id prefix: a question with more than 5 choices. */
const SELECTS: ByPrefix<StringSelectMenuInteraction> = [[ASK_PREFIX, answerChoice]]

/** Modal submits by custom id prefix. */
const MODALS: ByPrefix<ModalSubmitInteraction> = [
  [REFINE_PREFIX, submitRefine],
  [ASK_MODAL_PREFIX, submitAnswer],
]

/** Routes an interaction to its listener: by kind, then by custom id prefix. */
export function route(ctx: Context, interaction: Interaction): void {
  if (interaction.isChatInputCommand()) flowCommand(ctx, interaction)
  else if (interaction.isAutocomplete()) choices(ctx, interaction)
  else if (interaction.isModalSubmit()) byPrefix(MODALS, ctx, interaction)
  // Discord: every interaction needs an answer, or the user sees "This interaction failed".
  else if (interaction.isButton()) byPrefix(BUTTONS, ctx, interaction, inactive)
  else if (interaction.isStringSelectMenu()) byPrefix(SELECTS, ctx, interaction, inactive)
  else if (interaction.isMessageComponent()) inactive(ctx, interaction)
}

/** Calls the listener whose prefix starts the interaction's custom id, else `otherwise`. */
function byPrefix<I extends { customId: string }>(
  listeners: ByPrefix<I>,
  ctx: Context,
  interaction: I,
  otherwise?: (ctx: Context, interaction: I) => void,
): void {
  const found = listeners.find(([prefix]) => interaction.customId.startsWith(prefix))
  if (found === undefined) otherwise?.(ctx, interaction)
  else found[1](ctx, interaction, interaction.customId.slice(found[0].length))
}
