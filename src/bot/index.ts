// Configuration, the logger and ChorusError are not the bot's, but adapters reach them through it.
export { type Config, ConfigError, loadConfig, type RateLimit } from '../config/index.ts'
export { ChorusError } from '../errors.ts'
export { createLogger } from '../log/index.ts'
export type { Admission, Requester } from './admission.ts'
export {
  type AcceptRequest,
  Bot,
  DRAINING_MESSAGE,
  type Platform,
  type PlatformName,
  RESTART_NOTICE,
  type RetryOutcome,
  STORE_DOWN_MESSAGE,
  type StartRequest,
  type StopOutcome,
} from './bot.ts'
export {
  type EditBudget,
  type EditPriority,
  PlatformRateLimited,
  type Route,
  spend,
  type Turn,
  TurnCancelledError,
} from './budgets/budget.ts'
export { MemoryEditBudget } from './budgets/memory.ts'
export {
  BudgetClosedError,
  BudgetUnavailableError,
  RedisEditBudget,
  type RedisEditBudgetOptions,
} from './budgets/redis.ts'
export {
  type Command,
  type CommandOption,
  commandOf,
  FLOWS_DIR,
  loadFlows,
  MAX_COMMAND_TEXT,
  type ParseResult,
} from './commands/index.ts'
export { describeFailure } from './errors.ts'
export {
  branchLine,
  DEMO_NOTE,
  progressText,
  seconds,
  streamedText,
  summaryText,
  usageText,
  type VoteSummary,
  voteText,
} from './format.ts'
export { disguisesLink } from './links.ts'
export type { BotObserver, Check, RunInfo } from './observer.ts'
export { splitText, truncate } from './text.ts'
export {
  type BranchState,
  type CommandRun,
  isTerminal,
  type ReplySink,
  type ReplyView,
  type UsageLine,
} from './types.ts'
