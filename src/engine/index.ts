export {
  type Answer,
  type Ask,
  AskError,
  type Askee,
  type Asker,
  type Choice,
  type ChoiceAsk,
  durationMs,
  type FormAsk,
  NoAnswerError,
  type Question,
} from './ask.ts'
export type { StepServiceArgs } from './context.ts'
export { defineFlow } from './define.ts'
export {
  CallLimitError,
  CancelledError,
  DeadlineExceededError,
  EngineError,
  FinalNotReachedError,
  FlowDefinitionError,
  isTransient,
  StepTimeoutError,
  StragglerError,
  UpstreamFailedError,
} from './errors.ts'
export type { EventMeta, FlowEvent, FlowEventType } from './events.ts'
export {
  type AnyFlow,
  type Flow,
  FlowBuilder,
  type FlowOutputs,
  type FlowServices,
  type FlowSpec,
  type RetryPolicy,
  type Router,
  type StepContext,
  type StepOptions,
  type UsageReport,
} from './flow.ts'
export { buildGraph, type Graph } from './graph.ts'
export { FairLimiter, type Limiter } from './limiter.ts'
export { MemoryAsker } from './memory-asker.ts'
export { type FlowNode, flowNodes, toMermaid } from './mermaid.ts'
export type { RunOptions } from './options.ts'
export type { RunResult, StepFailure, StepRecord, StepStatus } from './result.ts'
export type { ResumedStep } from './resume.ts'
export { type RunHandle, runFlow } from './run.ts'
export { sleep } from './sleep.ts'
export { type Decision, decide, type Rule, type Tally, tallyOf, type Vote } from './tally.ts'
export {
  all,
  any,
  type Failure,
  inputName,
  type Label,
  type PartialResult,
  type PayloadOf,
  type QuorumResult,
  quorum,
  type Settled,
  type Step,
  type Trigger,
  type Winner,
} from './triggers.ts'
