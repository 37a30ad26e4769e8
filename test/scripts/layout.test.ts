import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cycles, MAX_FILE_LINES, MAX_FUNCTION_LINES, sizes } from '../../scripts/layout.ts'

const root = resolve(import.meta.dirname, '../..')

describe('the code keeps its shape (scripts/layout.ts)', () => {
  it(`no file in src/, adapters/ or flows/ over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES}`, () => {
    const { files, functions } = sizes(root)
    expect(files.filter((f) => f.lines > MAX_FILE_LINES).map((f) => f.what)).toEqual([])
    expect(functions.filter((f) => f.lines > MAX_FUNCTION_LINES).map((f) => f.what)).toEqual([])
    expect(files.find((f) => f.file === 'src/bot/bot.ts')?.lines).toBeLessThan(300)
  })

  it('no import circle in src/', () => {
    expect(cycles(root)).toEqual([])
  })
})
