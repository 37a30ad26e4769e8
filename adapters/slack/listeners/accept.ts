import type { Logger } from 'pino'
import type { AcceptRequest, Bot } from '../../../src/bot/index.ts'

/** What the user reads when the journal would not take their command. */
export const CANNOT_START = 'Chorus could not start this; the details are in its log.'

/** `bot.accept`, with the failure logged here before the listener answers the user. */
export async function accept(bot: Bot, log: Logger, req: AcceptRequest, signal?: AbortSignal): Promise<void> {
  try {
    await bot.accept(req, signal)
  } catch (error) {
    log.error({ err: error }, 'slack.accept_failed')
    throw error
  }
}
