export { MAX_RECENT } from './inspect.ts'
export { RedisStore } from './redis.ts'
export { REDIS_OPTIONS, RedisHealth } from './redis-health.ts'
export { SealError, Sealer } from './sealed.ts'
export { SqliteStore } from './sqlite.ts'
export type {
  Counters,
  DeliveredView,
  DiscordTarget,
  FinishDetails,
  GivenAnswer,
  Installations,
  KeyClaims,
  LimitSpec,
  NewQuestion,
  NewRun,
  Parking,
  QuestionRecord,
  Questions,
  RecentFilter,
  ReplyTarget,
  RunJournal,
  RunRecord,
  RunStatus,
  RunStore,
  RunSummary,
  SlackTarget,
  StepEntry,
  StepOutcome,
  StepTiming,
  StoredDecision,
  Take,
} from './types.ts'

/** The journal file inside CHORUS_DATA_DIR. */
export const JOURNAL_FILE = 'chorus.db'
