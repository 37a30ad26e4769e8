import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { Installations } from './types.ts'

/** Deletes the lock only while `token` holds it: a holder whose lock expired cannot free another's. */
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** Installations as one string key each; locks as `SET NX PX` keys holding their holder's token. */
export class RedisInstallations implements Installations {
  readonly #redis: Redis
  readonly #prefix: string

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis
    this.#prefix = prefix
  }

  async putInstallation(key: string, sealed: string): Promise<void> {
    await this.#redis.set(`${this.#prefix}:install:${key}`, sealed)
  }

  async getInstallation(key: string): Promise<string | undefined> {
    return (await this.#redis.get(`${this.#prefix}:install:${key}`)) ?? undefined
  }

  async deleteInstallation(key: string): Promise<boolean> {
    return (await this.#redis.del(`${this.#prefix}:install:${key}`)) > 0
  }

  async lock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID()
    const ok = await this.#redis.set(`${this.#prefix}:lock:${key}`, token, 'PX', ttlMs, 'NX')
    return ok === 'OK' ? token : undefined
  }

  async unlock(key: string, token: string): Promise<void> {
    await this.#redis.eval(UNLOCK, 1, `${this.#prefix}:lock:${key}`, token)
  }
}
