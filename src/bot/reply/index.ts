export { describeFailure, failedStepOf } from './failures.ts'
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
export { ReplyPump } from './pump.ts'
export { splitText, truncate } from './text.ts'
export { titleOf } from './title.ts'
export {
  type BranchState,
  isTerminal,
  type Phase,
  phaseOf,
  type ReplySink,
  type ReplyView,
  type UsageLine,
} from './types.ts'
export { asMarkdown, ViewBuilder } from './views.ts'
