import { describe, expect, it } from 'vitest'
import { disguisesLink } from '../../src/bot/index.ts'

describe('disguisesLink', () => {
  it('flags text that names another site than the target', () => {
    expect(disguisesLink('https://bank.example/login', 'https://evil.test/x')).toBe(true)
    expect(disguisesLink('bank.example', 'https://bank.example.evil.test/')).toBe(true)
    expect(disguisesLink('Log in at bank.example now', 'https://evil.test')).toBe(true)
    expect(disguisesLink('www.bank.example', 'https://evil.test')).toBe(true)
    // Full-width and ideographic dots, which browsers read as dots.
    expect(disguisesLink('bank．example', 'https://evil.test')).toBe(true)
    expect(disguisesLink('bank。example', 'https://evil.test')).toBe(true)
    expect(disguisesLink('docs', 'not a url')).toBe(true)
  })

  it('lets plain text and the same site through', () => {
    expect(disguisesLink('the docs', 'https://example.com/docs')).toBe(false)
    expect(disguisesLink('example.com', 'https://www.example.com/a')).toBe(false)
    expect(disguisesLink('https://Example.com/other', 'https://example.com/a')).toBe(false)
    expect(disguisesLink('e.g. this', 'https://example.com')).toBe(false)
  })
})
