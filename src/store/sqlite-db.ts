import { DatabaseSync } from 'node:sqlite'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY,
  command TEXT NOT NULL,
  input TEXT NOT NULL,
  user TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  delivered TEXT NOT NULL DEFAULT '',
  stopped_by TEXT,
  note TEXT,
  user_id TEXT,
  parked INTEGER NOT NULL DEFAULT 0,
  wakes INTEGER NOT NULL DEFAULT 0,
  wake_at INTEGER,
  shown TEXT NOT NULL DEFAULT '',
  summary TEXT,
  up INTEGER NOT NULL DEFAULT 0,
  down INTEGER NOT NULL DEFAULT 0,
  traceparent TEXT
);
CREATE INDEX IF NOT EXISTS runs_by_status ON runs (status, created_at);
CREATE TABLE IF NOT EXISTS steps (
  run_id TEXT NOT NULL,
  step TEXT NOT NULL,
  call INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  value TEXT NOT NULL,
  timing TEXT,
  PRIMARY KEY (run_id, step, call)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS questions (
  run_id TEXT NOT NULL,
  id TEXT NOT NULL,
  -- Open order in the run; NULL while the row only counts answers that came before the open.
  seq INTEGER,
  step TEXT,
  spec TEXT,
  created_at INTEGER,
  deadline_at INTEGER,
  message TEXT,
  version INTEGER NOT NULL DEFAULT 0,
  decision TEXT,
  PRIMARY KEY (run_id, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS answers (
  run_id TEXT NOT NULL,
  question_id TEXT NOT NULL,
  user TEXT NOT NULL,
  -- The question's version when this user first answered: their place in the order.
  pos INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (run_id, question_id, user)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS claims (
  key TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS limit_uses (
  key TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS limit_uses_by_key ON limit_uses (key, at);
CREATE TABLE IF NOT EXISTS totals (
  key TEXT PRIMARY KEY,
  total INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
`

/** Columns tables gained after files were made (versions 2 and 4): added to older files on open. */
const ADDED_COLUMNS: Record<string, Record<string, string>> = {
  runs: {
    user_id: 'TEXT',
    parked: 'INTEGER NOT NULL DEFAULT 0',
    wakes: 'INTEGER NOT NULL DEFAULT 0',
    wake_at: 'INTEGER',
    // Version 4: what the run inspector shows (when each view was shown, totals, 👍/👎).
    shown: "TEXT NOT NULL DEFAULT ''",
    summary: 'TEXT',
    up: 'INTEGER NOT NULL DEFAULT 0',
    down: 'INTEGER NOT NULL DEFAULT 0',
    traceparent: 'TEXT',
  },
  steps: { timing: 'TEXT' },
}

/** Opens (creating if needed) the journal file at the current schema, upgrading one an older Chorus made. */
export function openJournal(file: string): DatabaseSync {
  const db = new DatabaseSync(file)
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;')
  db.exec(SCHEMA)
  if (missingColumns(db).length > 0) immediately(db, () => addColumns(db))
  // The newest runs first, for the inspector's list (after the upgrade: older files lack nothing it needs).
  db.exec('CREATE INDEX IF NOT EXISTS runs_by_created ON runs (created_at)')
  db.exec('PRAGMA user_version = 4')
  return db
}

/** Runs `fn` holding the file's write lock from the start, so processes sharing the file take turns. */
export function immediately<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = fn()
    db.exec('COMMIT')
    return result
  } catch (error) {
    db.exec('ROLLBACK')
    throw error
  }
}

function missingColumns(db: DatabaseSync): Array<[table: string, column: string, type: string]> {
  const missing: Array<[string, string, string]> = []
  for (const [table, columns] of Object.entries(ADDED_COLUMNS)) {
    const have = new Set(
      (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name),
    )
    for (const [column, type] of Object.entries(columns))
      if (!have.has(column)) missing.push([table, column, type])
  }
  return missing
}

/** Checked again under the lock: another process may have just upgraded the same file. */
function addColumns(db: DatabaseSync): void {
  for (const [table, column, type] of missingColumns(db))
    db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`)
}
