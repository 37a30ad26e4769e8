/**
 * Redis for tests: the server on 127.0.0.1:6379 (or TEST_REDIS_URL), a fresh key prefix per test
 * file, and cleanup of exactly that prefix (never FLUSHALL/FLUSHDB: other suites share the server).
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { describe, it } from 'vitest'

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A client on the test server; the caller quits it. */
export function testRedis(): Redis {
  return new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 })
}

/** A prefix no other test uses. */
export function testPrefix(): string {
  return `chorus-test-${randomUUID()}`
}

/** Every key under `${prefix}:`. */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

/** Deletes every key under `${prefix}:`; returns how many there were. */
export async function deleteKeysUnder(redis: Redis, prefix: string): Promise<number> {
  const keys = await keysUnder(redis, prefix)
  for (let i = 0; i < keys.length; i += 500) await redis.unlink(...keys.slice(i, i + 500))
  return keys.length
}

/**
 * Whether the Redis tests run: always in CI (`.ci/run` starts Redis, so a missing one is a failure),
 * elsewhere only when a Redis answers PING within half a second, so `npm test` on a machine without
 * Redis skips them with a word instead of failing.
 */
export async function redisTestsEnabled(): Promise<boolean> {
  if (process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false') return true
  const { hostname, port } = new URL(TEST_REDIS_URL)
  const { connect } = await import('node:net')
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.once('data', (data) => done(String(data).startsWith('+PONG')))
  })
}

/** Registers the file's Redis tests, or one skipped test that says why they did not run. */
export function whenRedis(enabled: boolean, register: () => void): void {
  if (enabled) register()
  else
    describe.skip(`Redis tests: no Redis answers at ${TEST_REDIS_URL} (start redis-server, or set TEST_REDIS_URL)`, () => {
      it('needs Redis', () => {})
    })
}
