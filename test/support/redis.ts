/**
 * Redis for tests: the server on 127.0.0.1:6379 (or TEST_REDIS_URL), a fresh key prefix per test
 * file, and cleanup of exactly that prefix (never FLUSHALL/FLUSHDB: other suites share the server).
 */
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'

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
