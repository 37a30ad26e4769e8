import type { Requester } from '../../../src/bot/index.ts'

/** Who the limits and budgets count on Slack: the user, the channel and the workspace. */
export function requester(user: string, channel: string, team: string | undefined): Requester {
  // Ids are unique only within a workspace (Enterprise Grid aside).
  const scope = team === undefined ? '' : `${team}:`
  return {
    platform: 'slack',
    user: `${scope}${user}`,
    place: { kind: 'channel', id: `${scope}${channel}` },
    workspace: team,
  }
}
