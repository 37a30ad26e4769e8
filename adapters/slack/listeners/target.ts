import type { SlackTarget } from '../../../src/store/index.ts'

/** Where a run started from Slack replies, as plain data; Slack leaves `team_id` out of some payloads. */
export function replyTarget(where: {
  teamId: string | undefined
  channel: string
  threadTs?: string | undefined
  responseUrl?: string
}): SlackTarget {
  return {
    platform: 'slack',
    ...(where.teamId === undefined ? {} : { teamId: where.teamId }),
    channel: where.channel,
    ...(where.threadTs === undefined ? {} : { threadTs: where.threadTs }),
    ...(where.responseUrl === undefined ? {} : { responseUrl: where.responseUrl }),
  }
}
