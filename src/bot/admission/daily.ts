import type { ReplyTarget } from '../../store/index.ts'

/** A UTC day: what CHORUS_DAILY_TOKEN_BUDGET counts. */
export const DAY_MS = 86_400_000

/** The daily budget's counter for a workspace on the UTC day of `now`. */
export function dailyKey(platform: string, workspace: string, now: number): string {
  return `tokens:${platform}:${workspace}:${new Date(now).toISOString().slice(0, 10)}`
}

/** How long a day's counter is kept: the rest of that UTC day and a margin for clocks that differ. */
export function dailyTtlMs(now: number): number {
  return DAY_MS - (now % DAY_MS) + 60 * 60_000
}

/** The workspace (Slack team, Discord guild) whose daily token budget a run spends. */
export function workspaceOf(target: ReplyTarget): string | undefined {
  return target.platform === 'slack' ? target.teamId : target.guildId
}
