/** A flow file's text as a YAML document (JSON is YAML) that can say where each value is. */
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml'
import type { Problem } from './errors.ts'

export type Path = ReadonlyArray<string | number>

/** The parsed file: its plain value and the positions of its keys and values. */
export class Source {
  readonly value: unknown
  readonly problems: Problem[] = []
  readonly #text: string
  readonly #lines = new LineCounter()
  readonly #doc

  constructor(text: string) {
    this.#text = text
    // The core schema only: an unknown tag (`!!js/function`) is refused, never resolved.
    this.#doc = parseDocument(text, { lineCounter: this.#lines, prettyErrors: false, schema: 'core' })
    for (const error of [...this.#doc.errors, ...this.#doc.warnings]) {
      this.problems.push({ ...this.#position(error.pos[0]), message: yamlMessage(error.code, error.message) })
    }
    const value: unknown = this.problems.length === 0 ? this.#doc.toJS({ maxAliasCount: 50 }) : undefined
    this.value = value
    if (this.problems.length === 0 && (value === null || value === undefined))
      this.problems.push({
        line: 1,
        col: 1,
        message: 'the file is empty. Write a flow: name, description, input, steps, final',
      })
  }

  /** Where the value at `path` is (or its nearest parent that exists). */
  at(path: Path): { line: number; col: number } {
    for (let n = path.length; n >= 0; n--) {
      const node = this.#doc.getIn(path.slice(0, n), true) as Node | undefined
      const start = node?.range?.[0]
      if (start !== undefined) return this.#position(start)
    }
    return { line: 1, col: 1 }
  }

  /** Where the key of the entry at `path` is (its value's place when the key is not found). */
  keyAt(path: Path): { line: number; col: number } {
    const parent = this.#doc.getIn(path.slice(0, -1), true)
    const last = path[path.length - 1]
    if (isMap(parent)) {
      for (const pair of parent.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key
        if (key === last && isScalar(pair.key) && pair.key.range) return this.#position(pair.key.range[0])
      }
    }
    return this.at(path)
  }

  /** Where `needle` is written inside the text value at `path` (its `nth` occurrence, from 0). */
  within(path: Path, needle: string, nth = 0): { line: number; col: number } {
    const node = this.#doc.getIn(path, true) as Node | undefined
    const range = node?.range
    if (range === undefined || range === null) return this.at(path)
    const raw = this.#text.slice(range[0], range[1])
    let index = -1
    for (let i = 0; i <= nth; i++) {
      index = raw.indexOf(needle, index + 1)
      if (index < 0) return this.at(path)
    }
    return this.#position(range[0] + index)
  }

  #position(offset: number): { line: number; col: number } {
    return this.#lines.linePos(offset)
  }
}

/** The yaml library's message, with what to do. */
function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY')
    return 'this key is written twice in the same map. Give each option, step and setting its own name'
  if (code === 'TAG_RESOLVE_FAILED' || /tag/i.test(message))
    return `${lowerFirst(message)}. A flow file takes plain values only: remove the tag`
  return `${lowerFirst(message.replace(/\s+at line \d+, column \d+[\s\S]*$/, ''))} (YAML syntax). Check the indentation, quotes and brackets here`
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1)
}
