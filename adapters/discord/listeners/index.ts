import type { Interaction } from '../interaction.ts'
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

type ByPrefix = ReadonlyArray<readonly [prefix: string, listener: Listener]>

/** Buttons by custom id prefix (`render.ts` makes the ids); each listener gets the id's rest. */
const BUTTONS: ByPrefix = [
  [STOP_PREFIX, stop],
  [RETRY_PREFIX, retry],
  [REFINE_PREFIX, openRefine],
  [FEEDBACK_PREFIX, feedback],
  [VOTE_ON_PREFIX, voteOn],
  [ASK_PREFIX, answerChoice],
  [ASK_FORM_PREFIX, openQuestionForm],
]

/** String selects by custom id prefix: a question with more than 5 choices. */
const SELECTS: ByPrefix = [[ASK_PREFIX, answerChoice]]

/** Modal submits by custom id prefix. */
const MODALS: ByPrefix = [
  [REFINE_PREFIX, submitRefine],
  [ASK_MODAL_PREFIX, submitAnswer],
]

/**
 * Routes an interaction to its listener: by kind, then by custom id prefix. The gateway and the HTTP
 * endpoint both call it, each with the interaction made into the same plain shape.
 */
export function route(ctx: Context, interaction: Interaction): void {
  const { kind } = interaction
  if (kind === 'command') flowCommand(ctx, interaction)
  else if (kind === 'autocomplete') choices(ctx, interaction)
  else if (kind === 'modal') byPrefix(MODALS, ctx, interaction)
  // Discord: every interaction needs an answer, or the user sees "This interaction failed".
  else if (kind === 'button') byPrefix(BUTTONS, ctx, interaction, inactive)
  else if (kind === 'select') byPrefix(SELECTS, ctx, interaction, inactive)
  else inactive(ctx, interaction)
}

/** Calls the listener whose prefix starts the interaction's custom id, else `otherwise`. */
function byPrefix(
  listeners: ByPrefix,
  ctx: Context,
  interaction: Interaction,
  otherwise?: (ctx: Context, interaction: Interaction) => void,
): void {
  const found = listeners.find(([prefix]) => interaction.customId.startsWith(prefix))
  if (found === undefined) otherwise?.(ctx, interaction)
  else found[1](ctx, interaction, interaction.customId.slice(found[0].length))
}
