/**
 * A run's questions on Discord: posted beside the run's reply and edited in place, as plain data any
 * process can use. A question that closes while the interaction token lives is a follow-up on the
 * interaction's webhook (no channel permission needed); one that outlives the token is posted by
 * the bot in the channel, so that the bot can still close it when it ends, and a channel the bot
 * cannot post in is said at once, not when the deadline comes.
 */
import { DiscordAPIError, type REST, Routes } from 'discord.js'
import type { Logger } from 'pino'
import { CannotAskError, type QuestionView } from '../../src/bot/index.ts'
import type { DiscordTarget } from '../../src/store/index.ts'
import type { DiscordRest } from './platform.ts'
import { NO_MENTIONS } from './render.ts'
import { renderQuestion } from './render-question.ts'
import { type TokenClock, tokenUsable } from './token.ts'

/** Said when the bot may not post or edit in the run's channel. */
export const CANNOT_POST_TEXT =
  'Chorus cannot post in this channel (it needs View Channel and Send Messages there); ask an admin to add the bot to the channel.'
/** Said when a question would outlive the interaction and there is no bot to post it with. */
export const NO_BOT_TEXT =
  "Chorus can only ask questions that close within Discord's 15 minutes here (it has no bot token to post with)."

/** Discord: 50001 Missing Access, 50013 Missing Permissions, 50007 cannot message this user. */
const PERMISSION_CODES = new Set([50001, 50007, 50013])
const INVALID_WEBHOOK_TOKEN = 50027

/** Where a question's message is, as journaled: its channel and id, and the webhook it was posted on, if any. */
export interface QuestionMessageRef {
  channelId: string
  messageId: string
  /** Set when posted as a follow-up: edits go through that webhook while its token lives. */
  applicationId?: string
  token?: string
  createdAt?: number
}

/** Posts `view` for the run at `target`; returns where it is. Throws CannotAskError when it cannot. */
export async function postQuestion(
  rest: DiscordRest,
  clock: TokenClock,
  target: DiscordTarget,
  view: QuestionView,
  log: Logger,
): Promise<QuestionMessageRef> {
  const body = { ...renderQuestion(view), allowed_mentions: NO_MENTIONS }
  const { applicationId, token, createdAt } = target
  // It closes while the token still lives: a follow-up, edited through the same webhook.
  if (tokenUsable(createdAt, clock, view.deadlineAt)) {
    const message = (await rest.webhooks.post(Routes.webhook(applicationId, token), {
      body,
      query: new URLSearchParams({ wait: 'true' }),
      auth: false,
    })) as { id: string; channel_id: string }
    log.info(
      { event: 'discord.question_posted', via: 'webhook', message: message.id },
      'discord.question_posted',
    )
    return { channelId: message.channel_id, messageId: message.id, applicationId, token, createdAt }
  }
  const bot = botOf(rest)
  if (target.channelId === undefined) throw new CannotAskError(CANNOT_POST_TEXT)
  const message = (await permitted(() =>
    bot.post(Routes.channelMessages(target.channelId as string), { body }),
  )) as { id: string; channel_id: string }
  log.info({ event: 'discord.question_posted', via: 'bot', message: message.id }, 'discord.question_posted')
  return { channelId: message.channel_id, messageId: message.id }
}

/** Edits a posted question with `view`: through its webhook while that token lives, else through the bot. */
export async function editQuestion(
  rest: DiscordRest,
  clock: TokenClock,
  target: DiscordTarget,
  message: unknown,
  view: QuestionView,
  log: Logger,
): Promise<void> {
  const ref = refOf(message)
  const body = { ...renderQuestion(view), allowed_mentions: NO_MENTIONS }
  const { applicationId, token, createdAt } = ref
  if (applicationId !== undefined && token !== undefined && createdAt !== undefined) {
    if (tokenUsable(createdAt, clock)) {
      try {
        await rest.webhooks.patch(Routes.webhookMessage(applicationId, token, ref.messageId), {
          body,
          auth: false,
        })
        return
      } catch (error) {
        // Discord ended the token before our clock did: the bot may still edit it.
        if (!(error instanceof DiscordAPIError && error.code === INVALID_WEBHOOK_TOKEN)) throw error
        log.info({ event: 'discord.token_ended', interaction: target.interactionId }, 'discord.token_ended')
      }
    }
  }
  const bot = botOf(rest)
  await permitted(() => bot.patch(Routes.channelMessage(ref.channelId, ref.messageId), { body }))
}

function botOf(rest: DiscordRest): REST {
  if (rest.bot === undefined) throw new CannotAskError(NO_BOT_TEXT)
  return rest.bot
}

/** A bot call whose permission errors become CannotAskError with the words an admin can act on. */
async function permitted<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (
      error instanceof DiscordAPIError &&
      (error.status === 403 || PERMISSION_CODES.has(Number(error.code)))
    )
      throw new CannotAskError(CANNOT_POST_TEXT, { cause: error })
    throw error
  }
}

/** The journaled message, checked: it comes back from the store as plain JSON. */
function refOf(message: unknown): QuestionMessageRef {
  const m = message as Partial<QuestionMessageRef> | null
  if (typeof m?.channelId !== 'string' || typeof m.messageId !== 'string')
    throw new CannotAskError('Chorus lost track of where this question was posted.')
  return {
    channelId: m.channelId,
    messageId: m.messageId,
    ...(typeof m.applicationId === 'string' ? { applicationId: m.applicationId } : {}),
    ...(typeof m.token === 'string' ? { token: m.token } : {}),
    ...(typeof m.createdAt === 'number' ? { createdAt: m.createdAt } : {}),
  }
}
