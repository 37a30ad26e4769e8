import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { SealError, Sealer } from '../../src/store/index.ts'

describe('Sealer (AES-256-GCM)', () => {
  const sealer = new Sealer(randomBytes(32))

  it('opens what it sealed, and never keeps the text in the clear', () => {
    const sealed = sealer.seal('{"token":"xoxb-secret"}', 'slack:team:T1')
    expect(sealed).toMatch(/^v1\./)
    expect(sealed).not.toContain('xoxb')
    expect(sealer.open(sealed, 'slack:team:T1')).toBe('{"token":"xoxb-secret"}')
    // A fresh IV each time: the same text seals differently.
    expect(sealer.seal('{"token":"xoxb-secret"}', 'slack:team:T1')).not.toBe(sealed)
  })

  it('refuses another key, another context (a row moved to another team) and a changed byte', () => {
    const sealed = sealer.seal('xoxb-secret', 'slack:team:T1')
    expect(() => new Sealer(randomBytes(32)).open(sealed, 'slack:team:T1')).toThrow(SealError)
    expect(() => sealer.open(sealed, 'slack:team:T2')).toThrow(/does not open with CHORUS_ENCRYPTION_KEY/)
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`
    expect(() => sealer.open(flipped, 'slack:team:T1')).toThrow(SealError)
    expect(() => sealer.open('xoxb-in-the-clear', 'slack:team:T1')).toThrow(/not sealed by Chorus/)
  })
})
