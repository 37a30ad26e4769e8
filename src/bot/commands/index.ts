export { Commands } from './commands.ts'
export { MAX_COMMAND_TEXT, parseOptions, parseText } from './parse.ts'
export { checkFlows, commandOf, FLOWS_DIR, type FlowsReport, loadFlows, type Registered } from './registry.ts'
export type { Command, CommandOption, ParseResult } from './types.ts'
