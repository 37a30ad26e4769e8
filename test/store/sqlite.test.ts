import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SqliteStore } from '../../src/store/index.ts'
import { runStoreContract } from './contract.ts'

const dirs: string[] = []

runStoreContract('sqlite', {
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'chorus-store-'))
    dirs.push(dir)
    return new SqliteStore(join(dir, 'chorus.db'))
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
})
