export { feedback } from './feedback.ts'
export {
  accept,
  DRAINING_MESSAGE,
  intake,
  refusal,
  STORE_DOWN_MESSAGE,
  start,
} from './intake.ts'
export { FINAL_STEP } from './refine.ts'
export { refine, retry } from './rerun.ts'
export { RESTART_NOTICE, resume, shutdown } from './restart.ts'
export { Runs } from './runs.ts'
export { stop } from './stop.ts'
export type {
  AcceptRequest,
  CommandRun,
  RerunOptions,
  RetryOutcome,
  StartRequest,
  StopOutcome,
} from './types.ts'
export { startWorking, work } from './work.ts'
