import { join } from 'node:path'
import { SqliteStore } from './sqlite.ts'
import type { RunStore } from './types.ts'

export { RedisStore } from './redis.ts'
export { SqliteStore } from './sqlite.ts'
export type {
  Counters,
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

/** Opens the run store the configuration asks for: SQLite in `dataDir` (the embedded default). */
export function openStore(options: { dataDir: string }): RunStore {
  return new SqliteStore(join(options.dataDir, JOURNAL_FILE))
}
