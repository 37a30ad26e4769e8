/**
 * The RunStore contract for installations and locks: registered by `runStoreContract`. Locks are
 * raced between stores opened apart on the same data, as separate processes would.
 */
import { randomUUID } from 'node:crypto'
import { expect, it } from 'vitest'
import type { RunStore } from '../../src/store/index.ts'
import type { SiblingFactory } from './contract-asks.ts'

export function installationsContract(store: () => RunStore, factory: SiblingFactory): void {
  it('keeps an installation as given, replaces it, and deletes it once (a second delete is no error)', async () => {
    const key = `slack:team:T${randomUUID()}`
    expect(await store().getInstallation(key)).toBeUndefined()
    await store().putInstallation(key, 'v1.first')
    expect(await store().getInstallation(key)).toBe('v1.first')
    await store().putInstallation(key, 'v1.second')
    expect(await store().getInstallation(key)).toBe('v1.second')
    expect(await store().deleteInstallation(key)).toBe(true)
    expect(await store().deleteInstallation(key)).toBe(false)
    expect(await store().getInstallation(key)).toBeUndefined()
  })

  it('keeps installations apart by key (a team and an org with the same id)', async () => {
    const id = randomUUID()
    await store().putInstallation(`slack:team:${id}`, 'team')
    await store().putInstallation(`slack:enterprise:${id}`, 'org')
    await store().deleteInstallation(`slack:team:${id}`)
    expect(await store().getInstallation(`slack:enterprise:${id}`)).toBe('org')
    await store().deleteInstallation(`slack:enterprise:${id}`)
  })

  it('gives a lock to one of many stores at once; it is free again once unlocked or expired', async () => {
    const others = await Promise.all([factory.sibling(store()), factory.sibling(store())])
    try {
      const all = [store(), ...others]
      const key = `refresh:${randomUUID()}`
      const tokens = await Promise.all(all.flatMap((s) => [s.lock(key, 60_000), s.lock(key, 60_000)]))
      const held = tokens.filter((t) => t !== undefined)
      expect(held).toHaveLength(1)
      // A token that does not hold the lock cannot free it.
      await (others[0] as RunStore).unlock(key, 'not-the-holder')
      expect(await (others[1] as RunStore).lock(key, 60_000)).toBeUndefined()
      await (others[0] as RunStore).unlock(key, held[0] as string)
      const next = await (others[1] as RunStore).lock(key, 200)
      expect(next).toBeDefined()
      // A holder that died frees it after its time; its late unlock frees nothing of the next holder's.
      await new Promise((r) => setTimeout(r, 300))
      const third = await store().lock(key, 60_000)
      expect(third).toBeDefined()
      await (others[1] as RunStore).unlock(key, next as string)
      expect(await (others[0] as RunStore).lock(key, 60_000)).toBeUndefined()
      await store().unlock(key, third as string)
    } finally {
      for (const s of others) await s.close()
    }
  })
}
