import type { SlackReply } from '../response-url.ts'

/**
 * Where a run started from Slack replies, as plain data; Slack leaves `team_id` out of some payloads.
 * `responseUrlAt` marks a slash command's own response_url (a click's replaces the message clicked).
 */
export function replyTarget(where: {
  teamId: string | undefined
  /** The org (Enterprise Grid), from bolt's context: an org-wide install's token is found by it. */
  enterpriseId?: string | undefined
  channel: string
  threadTs?: string | undefined
  responseUrl?: string
  responseUrlAt?: number
}): SlackReply {
  return {
    platform: 'slack',
    ...(where.teamId === undefined ? {} : { teamId: where.teamId }),
    ...(where.enterpriseId === undefined ? {} : { enterpriseId: where.enterpriseId }),
    channel: where.channel,
    ...(where.threadTs === undefined ? {} : { threadTs: where.threadTs }),
    ...(where.responseUrl === undefined ? {} : { responseUrl: where.responseUrl }),
    ...(where.responseUrlAt === undefined ? {} : { responseUrlAt: where.responseUrlAt }),
  }
}
