import type { AnyFlow } from '../../engine/index.ts'
import { parseOptions, parseText } from './parse.ts'
import type { Registered } from './registry.ts'
import type { Command, ParseResult } from './types.ts'

/** The commands a bot answers, each with its flow: lookup, and parsing what a user typed. */
export class Commands {
  readonly #registered: Registered[]

  constructor(registered: Registered[]) {
    this.#registered = registered
  }

  /** Every command, in the order of its flow file's name. */
  get list(): Command[] {
    return this.#registered.map((r) => r.command)
  }

  get(name: string): Command | undefined {
    return this.#find(name)?.command
  }

  /** The flow behind a command; throws for a command this bot does not have. */
  flowOf(command: Command): AnyFlow {
    const found = this.#find(command.name)
    if (found === undefined) throw new Error(`no flow for command '${command.name}'`)
    return found.flow
  }

  parseText(command: Command, text: string): ParseResult {
    return parseText(command, this.flowOf(command), text)
  }

  parseOptions(command: Command, values: Record<string, unknown>): ParseResult {
    return parseOptions(command, this.flowOf(command), values)
  }

  #find(name: string): Registered | undefined {
    return this.#registered.find((r) => r.command.name === name)
  }
}
