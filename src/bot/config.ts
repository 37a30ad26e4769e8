import { z } from 'zod'
import { ConfigError } from './errors.ts'

/** Empty variables (as `.env.example` leaves them) count as unset. */
const blank = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    schema,
  )
const text = blank(z.string().optional())
const url = (example: string) => (name: string) =>
  blank(z.url({ message: `${name} must be a URL such as ${example}` }).optional())

const HTTP_PORT_MESSAGE = 'CHORUS_HTTP_PORT must be a port number from 0 (off) to 65535, e.g. 9464'

const schema = z.object({
  OPENAI_API_KEY: text,
  OPENAI_BASE_URL: url('http://localhost:11434/v1')('OPENAI_BASE_URL'),
  CHORUS_MODEL: text,
  SLACK_BOT_TOKEN: text,
  SLACK_APP_TOKEN: text,
  SLACK_SIGNING_SECRET: text,
  SLACK_API_URL: url('https://slack.com/api/')('SLACK_API_URL'),
  DISCORD_TOKEN: text,
  DISCORD_APP_ID: text,
  DISCORD_API_URL: url('https://discord.com/api')('DISCORD_API_URL'),
  PORT: blank(
    z.coerce
      .number({ message: 'PORT must be a number from 1 to 65535' })
      .int()
      .min(1)
      .max(65535)
      .default(3000),
  ),
  LOG_LEVEL: blank(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  REDIS_URL: blank(
    z
      .string()
      .regex(/^rediss?:\/\//, {
        message: 'REDIS_URL must look like redis://host:6379 (or rediss:// for TLS)',
      })
      .optional(),
  ),
  /** Every Redis key Chorus writes starts with it, so deployments and tests can share one Redis. */
  CHORUS_REDIS_PREFIX: blank(
    z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,64}$/, {
        message: 'CHORUS_REDIS_PREFIX must be 1-64 letters, digits, dots, dashes or underscores',
      })
      .default('chorus'),
  ),
  /** Runs this process works at once; 0 = receive only (with REDIS_URL: other processes work them). */
  CHORUS_WORKER_RUNS: blank(
    z.coerce
      .number({ message: 'CHORUS_WORKER_RUNS must be a whole number' })
      .int()
      .min(0)
      .max(10_000)
      .default(100),
  ),
  /** A killed worker's runs move to another within about lock + 2 × stall check. */
  CHORUS_WORKER_LOCK_MS: blank(
    z.coerce
      .number({ message: 'CHORUS_WORKER_LOCK_MS must be a number of milliseconds' })
      .int()
      .min(1_000)
      .default(10_000),
  ),
  CHORUS_WORKER_STALLED_MS: blank(
    z.coerce
      .number({ message: 'CHORUS_WORKER_STALLED_MS must be a number of milliseconds' })
      .int()
      .min(500)
      .default(5_000),
  ),
  /** Where the embedded run journal lives (SQLite, one file). */
  CHORUS_DATA_DIR: blank(z.string().default('.chorus')),
  /** How long a shutdown waits for in-flight runs before leaving them to the next start. */
  CHORUS_SHUTDOWN_GRACE_MS: blank(
    z.coerce
      .number({ message: 'CHORUS_SHUTDOWN_GRACE_MS must be a number of milliseconds, e.g. 10000' })
      .int()
      .min(0)
      .max(600_000)
      .default(10_000),
  ),
  /** `/healthz`, `/readyz` and `/metrics` (Prometheus); 0 turns the server off. */
  CHORUS_HTTP_PORT: blank(
    z.coerce
      .number({ message: HTTP_PORT_MESSAGE })
      .int({ message: HTTP_PORT_MESSAGE })
      .min(0, { message: HTTP_PORT_MESSAGE })
      .max(65535, { message: HTTP_PORT_MESSAGE })
      .default(9464),
  ),
  /**
   * chat.postMessage and chat.update calls per minute per Slack workspace, each method on its own
   * budget (Tier 3 is about 50 a minute; the default keeps headroom).
   */
  CHORUS_SLACK_WRITES_PER_MIN: blank(
    z.coerce
      .number({ message: 'CHORUS_SLACK_WRITES_PER_MIN must be a number of calls per minute, e.g. 45' })
      .positive({ message: 'CHORUS_SLACK_WRITES_PER_MIN must be a number of calls per minute, e.g. 45' })
      .max(100_000)
      .default(45),
  ),
  /** Most model calls in flight across all runs. */
  CHORUS_CONCURRENCY: blank(
    z.coerce.number({ message: 'CHORUS_CONCURRENCY must be a number' }).int().min(1).max(256).default(16),
  ),
})

export type Config = z.output<typeof schema>

/** Validates the environment; throws a ConfigError naming every bad variable and how to fix it. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(
      'config_invalid',
      `Configuration error:\n  ${lines.join('\n  ')}\nSee .env.example.`,
    )
  }
  if (parsed.data.CHORUS_WORKER_RUNS === 0 && parsed.data.REDIS_URL === undefined) {
    throw new ConfigError(
      'config_invalid',
      'CHORUS_WORKER_RUNS=0 (receive only) needs REDIS_URL: without Redis no other process works the runs.',
    )
  }
  return parsed.data
}
