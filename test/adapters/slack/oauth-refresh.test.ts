import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { WebClient } from '@slack/web-api'
import { afterEach, describe, expect, it } from 'vitest'
import { RedisStore, type RunStore, SqliteStore } from '../../../src/store/index.ts'
import { deliverCommand, type FakeSlack } from '../../fakes/slack.ts'
import { CLIENT_ID, CLIENT_SECRET } from '../../fakes/slack-oauth.ts'
import {
  deleteKeysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
} from '../../support/redis.ts'
import { install, type OAuthSetup, oauthEnv, setupOAuth } from '../../support/slack-oauth.ts'

const withRedis = await redisTestsEnabled()
const CHILD = fileURLToPath(new URL('../../support/slack-refresh.ts', import.meta.url))

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

async function started(options: Parameters<typeof setupOAuth>[0] = {}): Promise<OAuthSetup> {
  const setup = await setupOAuth(options)
  cleanup.push(() => setup.close())
  return setup
}

/** Installs T100 with rotating tokens that already expire within the refresh window; later ones live 12 h. */
async function installExpiring(setup: OAuthSetup): Promise<string> {
  setup.slack.oauth.rotation = true
  setup.slack.oauth.lifetimeSec = 600
  expect((await install(setup, { teamId: 'T100' })).status).toBe(200)
  setup.slack.oauth.lifetimeSec = 12 * 3600
  return setup.slack.oauth.tokenOf({ teamId: 'T100' })?.token as string
}

/** Starts the token-asking child; resolves once it is ready for "go". */
async function child(
  env: Record<string, string>,
): Promise<{ proc: ChildProcess; tokens: Promise<string[]> }> {
  const proc = spawn(process.execPath, [CHILD], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  cleanup.push(() => {
    proc.kill('SIGKILL')
  })
  let out = ''
  let err = ''
  proc.stderr?.on('data', (c: Buffer) => {
    err += String(c)
  })
  let ready!: () => void
  const isReady = new Promise<void>((r) => {
    ready = r
  })
  const tokens = new Promise<string[]>((resolve, reject) => {
    proc.stdout?.on('data', (c: Buffer) => {
      out += String(c)
      if (out.includes('ready\n')) ready()
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line !== undefined) resolve((JSON.parse(line) as { tokens: string[] }).tokens)
    })
    proc.on('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)))
  })
  await Promise.race([isReady, tokens.then(() => undefined)])
  return { proc, tokens }
}

/** Two processes, five calls each, ask for T100's token at the same moment. */
async function race(slack: FakeSlack, env: Record<string, string>): Promise<string[]> {
  slack.oauth.accessDelayMs = 300
  const children = await Promise.all([child(env), child(env)])
  for (const c of children) c.proc.stdin?.write('go\n')
  return (await Promise.all(children.map((c) => c.tokens))).flat()
}

describe('Slack token rotation', () => {
  it('refreshes an expiring token once before using it; the used refresh token is dead at Slack', async () => {
    const setup = await started()
    const { slack } = setup
    const first = await installExpiring(setup)
    const payload = slack.slashPayload('/brand', 'Acme', { team_id: 'T100', channel_id: 'C100' })
    expect((await deliverCommand(`${setup.base}/slack/events`, payload)).status).toBe(200)
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 8_000 }).toContain('done')
    expect(slack.oauth.refreshes).toEqual([{ ok: true, refreshToken: expect.any(String) }])
    const fresh = slack.oauth.tokenOf({ teamId: 'T100' })?.token
    expect(fresh).not.toBe(first)
    const writes = slack.calls.filter((c) => c.method.startsWith('chat.'))
    expect(new Set(writes.map((c) => c.token))).toEqual(new Set([fresh]))
    expect(setup.logs.filter((l) => l.event === 'slack.token_refreshed')).toHaveLength(1)
    // The fake is as strict as Slack: a refresh token trades once.
    const used = slack.oauth.refreshes[0]?.refreshToken as string
    const again = new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } })
    await expect(
      again.oauth.v2.access({
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        grant_type: 'refresh_token',
        refresh_token: used,
      }),
    ).rejects.toMatchObject({ data: { error: 'invalid_refresh_token' } })
  })

  it('a refresh Slack refuses is logged and not tried again on every event', async () => {
    const setup = await started()
    const { slack } = setup
    await installExpiring(setup)
    // Revoked at Slack (an admin, say) before Chorus heard of it: its refresh token is dead too.
    slack.oauth.revoke({ teamId: 'T100' })
    for (let i = 0; i < 3; i++) {
      const payload = slack.slashPayload('/brand', `Acme ${i}`, { team_id: 'T100', channel_id: 'C100' })
      expect((await deliverCommand(`${setup.base}/slack/events`, payload)).status).toBe(200)
    }
    await expect.poll(() => setup.logs.filter((l) => l.event === 'slack.token_refresh_failed').length).toBe(1)
    expect(slack.oauth.refreshes).toEqual([{ ok: false, refreshToken: expect.any(String) }])
    expect(setup.logs.find((l) => l.event === 'slack.token_refresh_failed')).toMatchObject({
      code: 'invalid_refresh_token',
    })
  })

  it.skipIf(!withRedis)(
    'two processes on Redis refreshing at once: one refresh at Slack, every caller gets the new token',
    async () => {
      const prefix = testPrefix()
      const redis = testRedis()
      cleanup.push(async () => {
        await deleteKeysUnder(redis, prefix)
        await redis.quit()
      })
      const store: RunStore = new RedisStore({ redis, prefix })
      const setup = await started({ store })
      const first = await installExpiring(setup)
      const tokens = await race(setup.slack, {
        ...oauthEnv(setup.slack),
        REDIS_URL: TEST_REDIS_URL,
        CHORUS_REDIS_PREFIX: prefix,
        TEAM: 'T100',
        CALLS: '5',
      })
      const fresh = setup.slack.oauth.tokenOf({ teamId: 'T100' })?.token
      expect(setup.slack.oauth.refreshes.map((r) => r.ok)).toEqual([true])
      expect(tokens).toHaveLength(10)
      expect(new Set(tokens)).toEqual(new Set([fresh]))
      expect(fresh).not.toBe(first)
    },
  )

  it('two processes on one SQLite file refreshing at once: one refresh at Slack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-oauth-'))
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'chorus.db')
    const store = new SqliteStore(file)
    cleanup.push(() => store.close())
    const setup = await started({ store })
    await installExpiring(setup)
    const tokens = await race(setup.slack, {
      ...oauthEnv(setup.slack),
      CHORUS_TEST_SQLITE: file,
      TEAM: 'T100',
      CALLS: '5',
    })
    expect(setup.slack.oauth.refreshes.map((r) => r.ok)).toEqual([true])
    expect(new Set(tokens)).toEqual(new Set([setup.slack.oauth.tokenOf({ teamId: 'T100' })?.token]))
  })
})
