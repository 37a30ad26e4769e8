export { RedisStore } from './redis.ts'
export { REDIS_OPTIONS, RedisHealth } from './redis-health.ts'
export { SqliteStore } from './sqlite.ts'
export type {
  Counters,
  GivenAnswer,
  NewQuestion,
  Parking,
  QuestionRecord,
  Questions,
  StoredDecision,
  DeliveredView,
  DiscordTarget,
  KeyClaims,
  LimitSpec,
  NewRun,
  ReplyTarget,
  RunJournal,
  RunRecord,
  RunStatus,
  RunStore,
  SlackTarget,
  StepOutcome,
  Take,
} from './types.ts'

/** The journal file inside CHORUS_DATA_DIR. */
export const JOURNAL_FILE = 'chorus.db'
