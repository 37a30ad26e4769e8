import { describe, expect, it } from 'vitest'
import { splitText, truncate } from '../../src/bot/index.ts'

describe('splitText', () => {
  it('keeps short text whole', () => {
    expect(splitText('hello', 10)).toEqual(['hello'])
  })

  it('splits at paragraphs, then lines, then words, never over the limit', () => {
    const text = `${'a'.repeat(30)}\n\n${'b'.repeat(30)}\n${'c'.repeat(10)} ${'d'.repeat(10)}`
    const parts = splitText(text, 40)
    expect(parts).toEqual(['a'.repeat(30), `${'b'.repeat(30)}`, `${'c'.repeat(10)} ${'d'.repeat(10)}`])
    for (const p of splitText('word '.repeat(500), 97)) expect(p.length).toBeLessThanOrEqual(97)
    expect(splitText('x'.repeat(25), 10)).toEqual(['x'.repeat(10), 'x'.repeat(10), 'x'.repeat(5)])
  })

  it('joins back to the same words', () => {
    const text = 'one two three four five six seven eight nine ten'
    expect(splitText(text, 12).join(' ')).toBe(text)
  })
})

describe('truncate', () => {
  it('ends cut text with an ellipsis within the limit', () => {
    expect(truncate('abcdef', 4)).toBe('abc…')
    expect(truncate('abc', 4)).toBe('abc')
  })
})
