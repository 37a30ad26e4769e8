import type { Bot } from '../../../src/bot/index.ts'

/**
 * Why Chorus takes no new work now (shutting down, its store unreachable), or undefined when it does.
 * Every listener that starts or reruns a run asks here, so the rule changes in one place.
 */
export function refusal(bot: Bot): string | undefined {
  return bot.refusal
}
