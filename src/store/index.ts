export { RedisStore } from './redis.ts'
export { REDIS_OPTIONS, RedisHealth } from './redis-health.ts'
export { SealError, Sealer } from './sealed.ts'
export { SqliteStore } from './sqlite.ts'
export type {
  Counters,
  DeliveredView,
  DiscordTarget,
  GivenAnswer,
  Installations,
  KeyClaims,
  LimitSpec,
  NewQuestion,
  NewRun,
  Parking,
  QuestionRecord,
  Questions,
  ReplyTarget,
  RunJournal,
  RunRecord,
  RunStatus,
  RunStore,
  SlackTarget,
  StepOutcome,
  StoredDecision,
  Take,
} from './types.ts'

/** The journal file inside CHORUS_DATA_DIR. */
export const JOURNAL_FILE = 'chorus.db'
