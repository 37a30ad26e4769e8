export { SqliteStore } from './sqlite.ts'
export type {
  DeliveredView,
  DiscordTarget,
  KeyClaims,
  NewRun,
  ReplyTarget,
  RunJournal,
  RunRecord,
  RunStatus,
  RunStore,
  SlackTarget,
  StepOutcome,
} from './types.ts'
