export { Commands } from './commands.ts'
export { MAX_COMMAND_TEXT, parseOptions, parseText } from './parse.ts'
export { commandOf, FLOWS_DIR, loadFlows, type Registered } from './registry.ts'
export type { Command, CommandOption, ParseResult } from './types.ts'
