import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, expect, it } from 'vitest'
import { type RunRecord, type RunStore, SqliteStore } from '../../src/store/index.ts'
import { runStoreContract } from './contract.ts'

const dirs: string[] = []
const files = new Map<RunStore, string>()

runStoreContract('sqlite', {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-store-'))
    dirs.push(dir)
    const store = new SqliteStore(join(dir, 'chorus.db'))
    files.set(store, join(dir, 'chorus.db'))
    return store
  },
  async sibling(store) {
    return new SqliteStore(files.get(store) as string)
  },
  async destroy(store) {
    await store.close()
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
  },
})

describe('SqliteStore', () => {
  it('keeps the journal in its file across close and reopen (a restart)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-store-'))
    try {
      const file = join(dir, 'nested', 'chorus.db')
      const first = new SqliteStore(file)
      const id = randomUUID()
      await first.create({
        id,
        command: 'vote',
        input: { question: 'why?' },
        user: 'ada',
        target: { platform: 'discord', applicationId: '1', interactionId: '2', token: 't', createdAt: 1 },
        createdAt: Date.now(),
      })
      await first.recordStep(id, { step: 'voter-1', call: 1, ok: true, value: 'yes' })
      await first.claim('command:x', 60_000)
      await first.close()
      const again = new SqliteStore(file)
      expect((await again.unfinished()).map((r) => r.id)).toEqual([id])
      expect(await again.completedSteps(id)).toEqual([{ step: 'voter-1', call: 1, value: 'yes' }])
      expect(await again.claim('command:x', 60_000)).toBe(false)
      await again.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('opens a journal an older Chorus made, adding what parking and questions need', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-store-'))
    try {
      const file = join(dir, 'chorus.db')
      const old = new DatabaseSync(file)
      old.exec(VERSION_2_SCHEMA)
      old.exec(`INSERT INTO runs (id, command, input, user, target, status, created_at, updated_at)
        VALUES ('old', 'vote', '{}', 'ada', '{"platform":"slack","channel":"C1"}', 'running', 1, 1)`)
      old.exec(`INSERT INTO steps VALUES ('old', 'voter-1', 1, 1, '{"v":"yes"}')`)
      old.close()
      const store = new SqliteStore(file)
      const run = await store.get('old')
      expect(run).toMatchObject({ status: 'running', parked: false, wakes: 0, user: 'ada' })
      expect(run?.userId).toBeUndefined()
      expect(await store.completedSteps('old')).toEqual([{ step: 'voter-1', call: 1, value: 'yes' }])
      // What the inspector reads: an old run has no timings, view times, totals or ratings yet.
      expect(await store.runSteps('old')).toEqual([{ step: 'voter-1', call: 1, ok: true, value: 'yes' }])
      expect(run).toMatchObject({ deliveredAt: {}, summary: undefined, feedback: { up: 0, down: 0 } })
      expect((await store.recent({ limit: 5 })).map((r) => r.id)).toEqual(['old'])
      expect(await store.park('old', 0, 99)).toBe(true)
      expect(await store.parkedRuns()).toEqual([{ id: 'old', wakeAt: 99 }])
      const q = { runId: 'old', id: 'q#1#1', step: 'q', spec: {}, createdAt: 1, deadlineAt: 2 }
      expect((await store.openQuestion(q)).version).toBe(0)
      await store.create({ ...(run as RunRecord), id: 'new', userId: 'U1' })
      expect((await store.get('new'))?.userId).toBe('U1')
      await store.close()
      // A second open finds the file upgraded already.
      const again = new SqliteStore(file)
      expect(await again.parkedRuns()).toEqual([{ id: 'old', wakeAt: 99 }])
      await again.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

/** The tables as Chorus made them before parking and questions (user_version 2). */
const VERSION_2_SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  command TEXT NOT NULL,
  input TEXT NOT NULL,
  user TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  delivered TEXT NOT NULL DEFAULT '',
  stopped_by TEXT,
  note TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, created_at);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT NOT NULL,
  step TEXT NOT NULL,
  call INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, step, call)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limit_uses (
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS limit_uses_by_key ON limit_uses (key, at);
CREATE TABLE IF NOT EXISTS totals (
  key TEXT PRIMARY KEY,
  total INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
PRAGMA user_version = 2;
`
