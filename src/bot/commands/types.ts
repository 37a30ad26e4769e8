/** One typed option of a command, derived from the flow's zod input schema. */
export interface CommandOption {
  /** Key in the flow input, e.g. `topic`, `angles`. */
  name: string
  description: string
  type: 'string' | 'integer' | 'number' | 'boolean'
  required: boolean
  /** The option that takes the free text after the command (`/brainstorm <topic>`). */
  primary: boolean
  min?: number
  max?: number
  /** For strings: maximum length in characters. */
  maxLength?: number
  choices?: string[]
  default?: unknown
}

/** A slash command: one per file in `flows/`. */
export interface Command {
  /** `brainstorm` (no slash). */
  name: string
  description: string
  /** e.g. `/brainstorm <topic> [--angles 1-8]`. */
  usage: string
  options: CommandOption[]
  /** Plural noun for progress lines: "2/5 ideas ready". */
  noun: string
}

export type ParseResult = { ok: true; input: Record<string, unknown> } | { ok: false; message: string }
