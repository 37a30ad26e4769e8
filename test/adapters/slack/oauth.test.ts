import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { slackManifest, slackMode, startSlack } from '../../../adapters/slack/index.ts'
import { Bot, loadConfig } from '../../../src/bot/index.ts'
import { OpenAIModel } from '../../../src/llm/index.ts'
import { startFakeOpenAI } from '../../fakes/openai.ts'
import {
  APP_TOKEN,
  BOT_TOKEN,
  deliverCommand,
  deliverEvent,
  FAST_TIER,
  type FakeSlack,
  type Message,
  startFakeSlack,
} from '../../fakes/slack.ts'
import { uninstallEvent } from '../../fakes/slack-oauth.ts'
import { freePort } from '../../support/redis-server.ts'
import { Browser, install, type OAuthSetup, oauthEnv, setupOAuth } from '../../support/slack-oauth.ts'

const cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function started(options: Parameters<typeof setupOAuth>[0] = {}): Promise<OAuthSetup> {
  const setup = await setupOAuth(options)
  cleanup.push(() => setup.close())
  return setup
}

/** A /brand command from `team`'s channel, delivered signed to the app's HTTP endpoint. */
function command(setup: OAuthSetup, team: string, channel: string, extra: Record<string, string> = {}) {
  const payload = setup.slack.slashPayload('/brand', `Acme ${team}`, {
    team_id: team,
    channel_id: channel,
    ...extra,
  })
  return deliverCommand(`${setup.base}/slack/events`, payload)
}

/** The Web API calls that wrote in `channel`, with the token each carried. */
function writesIn(slack: FakeSlack, channel: string) {
  return slack.calls.filter((c) => c.method.startsWith('chat.') && c.args.channel === channel)
}

function finalIn(slack: FakeSlack, channel: string): string {
  return slack.posted().find((m) => m.channel === channel)?.text ?? ''
}

describe('Slack installed in many workspaces (OAuth)', () => {
  it('installs through /slack/install → authorize → /slack/oauth_redirect, checking the state cookie, and keeps the tokens sealed', async () => {
    const setup = await started()
    const { slack, store } = setup
    // A redirect back without the browser's state cookie (a forged link) installs nothing.
    slack.oauth.approveAs({ teamId: 'T100' })
    const attacker = new Browser()
    const start = await attacker.get(`${setup.base}/slack/install`)
    expect(start.status).toBe(302)
    const authorizeUrl = new URL(start.location as string)
    expect(authorizeUrl.pathname).toBe('/oauth/v2/authorize')
    expect(authorizeUrl.searchParams.get('scope')).toContain('chat:write')
    expect(authorizeUrl.searchParams.get('state')).toBeTruthy()
    const back = await attacker.get(start.location as string)
    const forged = await new Browser().get(back.location as string)
    expect(forged.status).not.toBe(200)
    // A state the app did not sign, with the cookie set to match it, is refused as well.
    const tampered = new Browser()
    tampered.cookies.set('slack-app-oauth-state', 'made-up')
    const url = new URL(back.location as string)
    url.searchParams.set('state', 'made-up')
    expect((await tampered.get(url.toString())).status).not.toBe(200)
    expect(slack.calls.filter((c) => c.method === 'oauth.v2.access')).toHaveLength(0)
    expect(await store.getInstallation('slack:team:T100')).toBeUndefined()

    // The browser that started the install finishes it.
    const done = await attacker.get(back.location as string)
    expect(done.status).toBe(200)
    const token = slack.oauth.tokenOf({ teamId: 'T100' })?.token as string
    expect(token).toMatch(/^xoxb-T100-/)
    const sealed = (await store.getInstallation('slack:team:T100')) as string
    expect(sealed).toMatch(/^v1\./)
    expect(sealed).not.toContain(token)
    expect(sealed).not.toContain('T100')
    expect(JSON.stringify(setup.logs)).not.toContain(token)
    expect(setup.logs.find((l) => l.event === 'slack.installed')).toMatchObject({
      teamId: 'T100',
      orgWide: false,
    })
  })

  it('answers each workspace with its own token: two installs, two commands, replies checked at the fake', async () => {
    const setup = await started()
    const { slack } = setup
    for (const teamId of ['T100', 'T200']) expect((await install(setup, { teamId })).status).toBe(200)
    const tokens = {
      T100: slack.oauth.tokenOf({ teamId: 'T100' })?.token,
      T200: slack.oauth.tokenOf({ teamId: 'T200' })?.token,
    }
    expect(tokens.T100).not.toBe(tokens.T200)
    const [a, b] = await Promise.all([command(setup, 'T100', 'C100'), command(setup, 'T200', 'C200')])
    expect([a.status, b.status]).toEqual([200, 200])
    await expect.poll(() => finalIn(slack, 'C100'), { timeout: 8_000 }).toContain('done')
    await expect.poll(() => finalIn(slack, 'C200'), { timeout: 8_000 }).toContain('done')
    for (const [team, channel] of [
      ['T100', 'C100'],
      ['T200', 'C200'],
    ] as const) {
      const writes = writesIn(slack, channel)
      expect(writes.length).toBeGreaterThan(0)
      expect(new Set(writes.map((c) => c.token))).toEqual(new Set([tokens[team]]))
    }
    // Clicks and modals act with their workspace's token too: Again in T100, Refine (a modal) in T200.
    const via = { url: `${setup.base}/slack/events` }
    const user = { id: 'U9', name: 'grace' }
    const replyOf = (channel: string) => slack.posted().find((m) => m.channel === channel) as Message
    await slack.click(replyOf('C100'), 'chorus_retry', user, { via })
    await expect
      .poll(() => slack.posted().filter((m) => m.channel === 'C100').length, { timeout: 5_000 })
      .toBe(2)
    await slack.click(replyOf('C200'), 'chorus_refine', user, { via })
    await expect.poll(() => slack.views.size, { timeout: 5_000 }).toBe(1)
    const [viewId] = [...slack.views.keys()] as [string]
    expect((await slack.submit(viewId, { request: 'shorter' }, { user, via })).result).toBe('closed')
    await expect
      .poll(() => slack.posted().filter((m) => m.channel === 'C200' && m.threadTs !== undefined).length, {
        timeout: 5_000,
      })
      .toBe(1)
    await expect
      .poll(() => slack.posted().filter((m) => m.text.includes('done')).length, { timeout: 8_000 })
      .toBe(4)
    const opened = slack.calls.filter((c) => c.method === 'views.open')
    expect(opened.map((c) => c.token)).toEqual([tokens.T200])
    for (const [team, channel] of [
      ['T100', 'C100'],
      ['T200', 'C200'],
    ] as const)
      expect(new Set(writesIn(slack, channel).map((c) => c.token))).toEqual(new Set([tokens[team]]))
    // The one-workspace token was never used.
    expect(slack.calls.some((c) => c.token === BOT_TOKEN)).toBe(false)
  })

  it('counts the daily token budget per installed workspace', async () => {
    const setup = await started({ env: { CHORUS_DAILY_TOKEN_BUDGET: '1' } })
    const { slack } = setup
    for (const teamId of ['T100', 'T200']) await install(setup, { teamId })
    await command(setup, 'T100', 'C100')
    await expect.poll(() => finalIn(slack, 'C100'), { timeout: 8_000 }).toContain('done')
    const refused = await command(setup, 'T100', 'C100')
    expect(refused.body).toContain("used today's Chorus budget")
    const other = await command(setup, 'T200', 'C200')
    expect(other.body).not.toContain('budget')
    await expect.poll(() => finalIn(slack, 'C200'), { timeout: 8_000 }).toContain('done')
  })

  it('installs org-wide (Enterprise Grid): kept under the enterprise id, used for every workspace of the org', async () => {
    const setup = await started()
    const { slack, store } = setup
    expect((await install(setup, { enterpriseId: 'E1', orgWide: true })).status).toBe(200)
    expect(await store.getInstallation('slack:enterprise:E1')).toBeDefined()
    expect(setup.logs.find((l) => l.event === 'slack.installed')).toMatchObject({
      enterpriseId: 'E1',
      orgWide: true,
    })
    const orgToken = slack.oauth.tokenOf({ enterpriseId: 'E1' })?.token
    const org = { enterprise_id: 'E1', is_enterprise_install: 'true' }
    await command(setup, 'T301', 'C301', org)
    await command(setup, 'T302', 'C302', org)
    await expect.poll(() => finalIn(slack, 'C301'), { timeout: 8_000 }).toContain('done')
    await expect.poll(() => finalIn(slack, 'C302'), { timeout: 8_000 }).toContain('done')
    for (const channel of ['C301', 'C302'])
      expect(new Set(writesIn(slack, channel).map((c) => c.token))).toEqual(new Set([orgToken]))
    // Uninstalled from the whole org: the org's install goes.
    const events = `${setup.base}/slack/events`
    expect(await slack.uninstall({ enterpriseId: 'E1', orgWide: true }, events)).toEqual([200, 200])
    expect(await store.getInstallation('slack:enterprise:E1')).toBeUndefined()
    expect(setup.logs.find((l) => l.event === 'slack.uninstalled')).toMatchObject({
      enterpriseId: 'E1',
      removed: true,
    })
  })

  it('uninstall then revoke, and revoke then uninstall: each deletes what it names once; later events are acked and dropped quietly', async () => {
    const setup = await started()
    const { slack, store } = setup
    for (const teamId of ['T100', 'T200', 'T300']) await install(setup, { teamId })
    const events = `${setup.base}/slack/events`

    // T100: app_uninstalled, then the tokens_revoked Slack sends after it; T200 the other way round.
    expect(await slack.uninstall({ teamId: 'T100' }, events)).toEqual([200, 200])
    expect(await store.getInstallation('slack:team:T100')).toBeUndefined()
    expect(await slack.uninstall({ teamId: 'T200' }, events, ['tokens_revoked', 'app_uninstalled'])).toEqual([
      200, 200,
    ])
    expect(await store.getInstallation('slack:team:T200')).toBeUndefined()
    // Slack may deliver one again.
    expect((await deliverEvent(events, uninstallEvent('app_uninstalled', { teamId: 'T100' }))).status).toBe(
      200,
    )

    // T300: only a user's token revoked: the bot's stays.
    await deliverEvent(events, uninstallEvent('tokens_revoked', { teamId: 'T300' }, { oauth: ['U1'] }))
    await expect.poll(() => setup.logs.filter((l) => l.event === 'slack.tokens_revoked').length).toBe(3)
    expect(await store.getInstallation('slack:team:T300')).toBeDefined()

    const uninstalled = setup.logs.filter((l) => l.event === 'slack.uninstalled')
    expect(uninstalled.map((l) => [l.teamId, l.removed])).toEqual([
      ['T100', true],
      ['T200', false],
      ['T100', false],
    ])
    const revoked = setup.logs.filter((l) => l.event === 'slack.tokens_revoked')
    expect(revoked.map((l) => [l.teamId, l.removed])).toEqual([
      ['T100', false],
      ['T200', true],
      ['T300', false],
    ])

    // Commands from a removed workspace: acknowledged, nothing posted, logged once rather than each time.
    const before = slack.calls.length
    for (let i = 0; i < 5; i++) expect((await command(setup, 'T100', 'C100')).status).toBe(200)
    await new Promise((r) => setTimeout(r, 200))
    expect(slack.calls.slice(before).filter((c) => c.method.startsWith('chat.'))).toHaveLength(0)
    const removed = setup.logs.filter((l) => l.event === 'slack.event_from_removed_workspace')
    expect(removed).toHaveLength(5)
    expect(removed.filter((l) => (l.level as number) >= 30)).toHaveLength(1)
    expect(setup.logs.filter((l) => (l.level as number) >= 40)).toEqual([])
    // T300 still works.
    await command(setup, 'T300', 'C300')
    await expect.poll(() => finalIn(slack, 'C300'), { timeout: 8_000 }).toContain('done')
  })

  it('a run in flight when its workspace uninstalls goes on without posting, said once in the log', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const setup = await started({
      handler: async () => {
        await gate
        return { text: 'A good line' }
      },
    })
    const { slack } = setup
    await install(setup, { teamId: 'T100' })
    await command(setup, 'T100', 'C100')
    await expect.poll(() => writesIn(slack, 'C100').length, { timeout: 5_000 }).toBeGreaterThan(0)
    slack.oauth.revoke({ teamId: 'T100' })
    await deliverEvent(`${setup.base}/slack/events`, uninstallEvent('app_uninstalled', { teamId: 'T100' }))
    await expect.poll(() => setup.store.getInstallation('slack:team:T100')).toBeUndefined()
    const before = writesIn(slack, 'C100').length
    release()
    await expect.poll(() => setup.logs.some((l) => l.msg === 'run.completed'), { timeout: 8_000 }).toBe(true)
    expect(writesIn(slack, 'C100')).toHaveLength(before)
    expect(setup.logs.filter((l) => l.event === 'reply.workspace_removed')).toHaveLength(1)
    expect(setup.logs.filter((l) => (l.level as number) >= 50)).toEqual([])
  })

  it('a run of a workspace that removed Chorus ends without posting, and says so in the log', async () => {
    const setup = await started()
    const { slack, store, bot } = setup
    await install(setup, { teamId: 'T100' })
    await store.create({
      id: 'run-of-removed',
      command: 'brand',
      input: { name: 'Acme' },
      user: 'ada',
      target: { platform: 'slack', teamId: 'T100', channel: 'C100' },
      createdAt: Date.now(),
    })
    slack.oauth.revoke({ teamId: 'T100' })
    await deliverEvent(`${setup.base}/slack/events`, uninstallEvent('app_uninstalled', { teamId: 'T100' }))
    await expect.poll(() => store.getInstallation('slack:team:T100')).toBeUndefined()
    expect(await bot.work('run-of-removed')).toBe('done')
    expect((await store.get('run-of-removed'))?.status).toBe('abandoned')
    expect(setup.logs.find((l) => l.event === 'run.workspace_removed')).toMatchObject({
      runId: 'run-of-removed',
    })
    expect(slack.calls.filter((c) => c.method.startsWith('chat.'))).toHaveLength(0)
  })
})

describe('Slack OAuth beside Socket Mode', () => {
  it('serves the install pages on PORT while events come over the socket, each answered with its workspace’s token', async () => {
    const slack = await startFakeSlack({ tier3: FAST_TIER })
    cleanup.push(() => slack.close())
    const openai = await startFakeOpenAI({ handler: () => ({ text: 'A good line' }) })
    cleanup.push(() => openai.close())
    const port = await freePort()
    const config = loadConfig(
      oauthEnv(slack, { SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '', PORT: String(port) }),
    )
    const model = new OpenAIModel({
      apiKey: 'sk-test',
      baseURL: openai.url,
      model: 'fake',
      timeoutMs: 10_000,
    })
    const bot = await Bot.create({ config, model, logger: pino({ level: 'silent' }) })
    const handle = await startSlack(bot, config)
    cleanup.push(async () => {
      await handle.stop()
      await bot.shutdown(1_000)
    })
    await slack.connected()
    const base = `http://127.0.0.1:${port}`
    slack.oauth.redirectUrl = `${base}/slack/oauth_redirect`
    expect((await install({ slack, base }, { teamId: 'T500' })).status).toBe(200)
    await slack.send(
      'slash_commands',
      slack.slashPayload('/brand', 'Acme', { team_id: 'T500', channel_id: 'C500' }),
    )
    await expect.poll(() => finalIn(slack, 'C500'), { timeout: 8_000 }).toContain('done')
    const token = slack.oauth.tokenOf({ teamId: 'T500' })?.token
    expect(new Set(writesIn(slack, 'C500').map((c) => c.token))).toEqual(new Set([token]))
  })
})

describe('Slack OAuth configuration', () => {
  const base = {
    SLACK_CLIENT_ID: '1.2',
    SLACK_CLIENT_SECRET: 's',
    SLACK_STATE_SECRET: 'st',
    SLACK_SIGNING_SECRET: 'sig',
  }
  it('refuses OAuth without CHORUS_ENCRYPTION_KEY, with a bad one, half set, or beside SLACK_BOT_TOKEN', () => {
    expect(() => slackMode(loadConfig(base))).toThrow(/CHORUS_ENCRYPTION_KEY.*openssl rand -base64 32/)
    expect(() => loadConfig({ ...base, CHORUS_ENCRYPTION_KEY: 'c2hvcnQ=' })).toThrow(
      /32 random bytes in base64/,
    )
    expect(() => slackMode(loadConfig({ ...base, SLACK_STATE_SECRET: '' }))).toThrow(
      /needs SLACK_STATE_SECRET/,
    )
    expect(() => slackMode(loadConfig({ ...base, SLACK_BOT_TOKEN: BOT_TOKEN }))).toThrow(/one or the other/)
    const key = Buffer.alloc(32, 7).toString('base64')
    const mode = slackMode(loadConfig({ ...base, CHORUS_ENCRYPTION_KEY: key }))
    expect(mode).toMatchObject({ kind: 'http', auth: { kind: 'oauth', clientId: '1.2' } })
  })

  it('the manifest for many workspaces has the redirect URL, HTTP URLs, token rotation and the uninstall events', async () => {
    const config = loadConfig(oauthEnv({ apiUrl: 'http://127.0.0.1:1/api/' } as FakeSlack))
    const bot = await Bot.create({ config })
    const yaml = slackManifest(bot.commands, 'Chorus', { publicUrl: 'https://chorus.example.com/' })
    expect(yaml).toContain('  redirect_urls:\n    - "https://chorus.example.com/slack/oauth_redirect"')
    expect(yaml).toContain('    request_url: "https://chorus.example.com/slack/events"')
    expect(yaml).toContain('      url: "https://chorus.example.com/slack/events"')
    expect(yaml).toContain('  token_rotation_enabled: true')
    expect(yaml).toContain('  socket_mode_enabled: false')
    expect(yaml).toContain('  org_deploy_enabled: true')
    expect(yaml).toContain('      - app_uninstalled')
    expect(yaml).toContain('      - tokens_revoked')
    await bot.shutdown(100)
  })
})
