import { randomUUID } from 'node:crypto'
import type { DatabaseSync, StatementSync } from 'node:sqlite'
import type { Installations } from './types.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS installations (
  key TEXT PRIMARY KEY,
  sealed TEXT NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS locks (
  key TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`

/**
 * Installations in the journal file, and locks as rows with an expiry: every process sharing the
 * file sees them, as every process on Redis sees its keys (a lock is one conditional upsert).
 */
export class SqliteInstallations implements Installations {
  readonly #q: Record<'put' | 'get' | 'delete' | 'lock' | 'unlock', StatementSync>

  constructor(db: DatabaseSync) {
    db.exec(SCHEMA)
    const p = (sql: string): StatementSync => db.prepare(sql)
    this.#q = {
      put: p(
        `INSERT INTO installations (key, sealed, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
      ),
      get: p('SELECT sealed FROM installations WHERE key = ?'),
      delete: p('DELETE FROM installations WHERE key = ?'),
      lock: p(
        `INSERT INTO locks (key, token, expires_at) VALUES (?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at
           WHERE locks.expires_at <= ?`,
      ),
      unlock: p('DELETE FROM locks WHERE key = ? AND token = ?'),
    }
  }

  async putInstallation(key: string, sealed: string): Promise<void> {
    this.#q.put.run(key, sealed, Date.now())
  }

  async getInstallation(key: string): Promise<string | undefined> {
    return (this.#q.get.get(key) as { sealed: string } | undefined)?.sealed
  }

  async deleteInstallation(key: string): Promise<boolean> {
    return Number(this.#q.delete.run(key).changes) > 0
  }

  async lock(key: string, ttlMs: number): Promise<string | undefined> {
    const token = randomUUID()
    const now = Date.now()
    return Number(this.#q.lock.run(key, token, now + ttlMs, now).changes) > 0 ? token : undefined
  }

  async unlock(key: string, token: string): Promise<void> {
    this.#q.unlock.run(key, token)
  }
}
