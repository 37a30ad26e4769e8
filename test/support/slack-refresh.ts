/**
 * A process that asks for a workspace's bot token, CALLS times at once, when told "go" on stdin, and
 * prints the tokens it got: several of these race one token refresh, as receivers and workers would.
 * The store is Redis (REDIS_URL) or the SQLite file CHORUS_TEST_SQLITE.
 */
import { createInterface } from 'node:readline'
import { pino } from 'pino'
import { slackAuth, slackInstallations } from '../../adapters/slack/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { RedisStore, type RunStore, SqliteStore } from '../../src/store/index.ts'

const config = loadConfig(process.env)
const auth = slackAuth(config)
if (auth.kind !== 'oauth') throw new Error('the OAuth variables are not set')
const file = process.env.CHORUS_TEST_SQLITE
const store: RunStore =
  file === undefined
    ? new RedisStore({ redis: config.REDIS_URL as string, prefix: config.CHORUS_REDIS_PREFIX })
    : new SqliteStore(file)
const installations = slackInstallations(auth, store, config, pino({ level: 'silent' }))
const calls = Number(process.env.CALLS ?? 1)
process.stdout.write('ready\n')
const lines = createInterface({ input: process.stdin })
for await (const line of lines) {
  if (line !== 'go') continue
  const tokens = await Promise.all(
    Array.from({ length: calls }, () => installations.botToken({ teamId: process.env.TEAM })),
  )
  process.stdout.write(`${JSON.stringify({ tokens })}\n`)
  break
}
lines.close()
await store.close()
