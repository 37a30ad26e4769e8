import { type Bot, DRAINING_MESSAGE } from '../../../src/bot/index.ts'

/**
 * Why Chorus takes no new work now, or undefined when it does. Every listener that starts or reruns a
 * run asks here, so the rule changes in one place.
 */
export function refusal(bot: Bot): string | undefined {
  return bot.accepting ? undefined : DRAINING_MESSAGE
}
