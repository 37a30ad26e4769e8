// Configuration, the logger and ChorusError are not the bot's, but adapters reach them through it.
export { type Config, ConfigError, loadConfig, type RateLimit } from '../config/index.ts'
export { ChorusError } from '../errors.ts'
export { createLogger } from '../log/index.ts'
export type { Admission, Requester } from './admission/index.ts'
export {
  type AnswerOutcome,
  type AnswerRequest,
  CannotAskError,
  closesText,
  type FormField,
  notAllowedText,
  type QuestionLookup,
  type QuestionView,
  ruleText,
  tallyLines,
  type WhoSpec,
  whoText,
} from './asks/index.ts'
export { Bot } from './bot.ts'
export {
  BudgetClosedError,
  BudgetUnavailableError,
  type EditBudget,
  type EditPriority,
  MemoryEditBudget,
  PlatformRateLimited,
  RedisEditBudget,
  type RedisEditBudgetOptions,
  type Route,
  spend,
  type Turn,
  TurnCancelledError,
} from './budgets/index.ts'
export {
  type Command,
  type CommandOption,
  checkFlows,
  commandOf,
  FLOWS_DIR,
  type FlowsReport,
  loadFlows,
  MAX_COMMAND_TEXT,
  type ParseResult,
} from './commands/index.ts'
export { type Accepting, type BotObserver, type Check, observeAll, type RunInfo } from './observer.ts'
export type { Platform, PlatformName } from './platform.ts'
export {
  type BranchState,
  branchLine,
  DEMO_NOTE,
  describeFailure,
  disguisesLink,
  isTerminal,
  type Phase,
  phaseOf,
  progressText,
  type ReplySink,
  type ReplyView,
  seconds,
  splitText,
  streamedText,
  summaryText,
  truncate,
  type UsageLine,
  usageText,
  type VoteSummary,
  voteText,
} from './reply/index.ts'
export {
  type AcceptRequest,
  type CommandRun,
  DRAINING_MESSAGE,
  FINAL_STEP,
  RESTART_NOTICE,
  type RerunOptions,
  type RetryOutcome,
  STORE_DOWN_MESSAGE,
  type StartRequest,
  type StopOutcome,
} from './runs/index.ts'
