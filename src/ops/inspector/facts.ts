import type { ReplyTarget, RunRecord, RunStatus } from '../../store/index.ts'

/** The statuses a run can have, for the list's filter. */
export const STATUSES: readonly RunStatus[] = ['running', 'completed', 'failed', 'stopped', 'abandoned']
export const PLATFORMS = ['slack', 'discord'] as const

/**
 * Where a run's reply lives, told without its secrets: the workspace, guild and channel ids only.
 * A target also holds Slack's response_url and Discord's interaction token; they are never shown.
 */
export function whereOf(target: ReplyTarget): string {
  if (target.platform === 'slack') {
    const parts = ['slack']
    if (target.teamId !== undefined) parts.push(target.teamId)
    parts.push(`#${target.channel}`)
    if (target.threadTs !== undefined) parts.push('thread')
    return parts.join(' · ')
  }
  const parts: string[] = ['discord']
  if (target.guildId !== undefined) parts.push(target.guildId)
  if (target.channelId !== undefined) parts.push(`#${target.channelId}`)
  return parts.join(' · ')
}

/** From acceptance to its end (to now while it runs). */
export function runDurationMs(run: RunRecord, now: number): number {
  return (run.status === 'running' ? now : run.updatedAt) - run.createdAt
}

/** The run's status, with `parked` for a run that waits for people. */
export function statusText(run: RunRecord): string {
  return run.status === 'running' && run.parked ? 'running · parked' : run.status
}

/** The trace id of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`), if it is one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const m = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent ?? '')
  const id = m?.[1]
  return id === undefined || /^0+$/.test(id) ? undefined : id
}
