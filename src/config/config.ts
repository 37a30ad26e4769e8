import { z } from 'zod'
import { ChorusError } from '../errors.ts'
import { pricesSchema } from '../llm/index.ts'

/** Empty variables (as `.env.example` leaves them) count as unset. */
const blank = <T extends z.ZodType>(schema: T) =>
  z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v),
    schema,
  )
const text = blank(z.string().optional())
const url = (example: string) => (name: string) =>
  blank(z.url({ message: `${name} must be a URL such as ${example}` }).optional())

/** Start-up configuration is wrong; the message says what to fix. */
export class ConfigError extends ChorusError {}

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
/** The longest window a limit may have (the stores forget uses older than this). */
const MAX_WINDOW_MS = 7 * 86_400_000

/** A use limit, e.g. `10/1h`: at most `limit` commands in any `windowMs`. */
export interface RateLimit {
  limit: number
  windowMs: number
  /** As configured, for messages: `10/1h`. */
  text: string
}

/** "N/window" (`10/1h`, `30/1d`, `5/10m`, `3/30s`) → a RateLimit; unset = no limit. */
const rate = (name: string) =>
  blank(
    z
      .string()
      .transform((v, ctx): RateLimit => {
        const m = /^(\d+)\s*\/\s*(\d*)\s*([smhd])$/.exec(v)
        const limit = Number(m?.[1])
        const windowMs = Number(m?.[2] === '' ? 1 : m?.[2]) * UNIT_MS[(m?.[3] ?? 's') as keyof typeof UNIT_MS]
        if (m === null || limit < 1 || windowMs < 1_000 || windowMs > MAX_WINDOW_MS) {
          ctx.addIssue({
            code: 'custom',
            message:
              `${name} must be "N/window" with N at least 1 and a window from 1s to 7d, ` +
              `e.g. 10/1h, 30/1d or 5/10m (got "${v}")`,
          })
          return z.NEVER
        }
        return { limit, windowMs, text: v.replace(/\s+/g, '') }
      })
      .optional(),
  )
const tokens = (name: string) =>
  blank(
    z.coerce
      .number({ message: `${name} must be a whole number of tokens, e.g. 20000` })
      .int({ message: `${name} must be a whole number of tokens, e.g. 20000` })
      .min(1, { message: `${name} must be at least 1 token (leave it empty for no budget)` })
      .optional(),
  )
/**
 * OTLP over HTTP: JSON (Chorus' default: what the JS SDK's OTLP/HTTP exporter sends, and every OTLP/HTTP
 * receiver takes) or protobuf (the spec's default; smaller); gRPC would pull in a gRPC stack.
 */
const otlpProtocol = (name: string) =>
  blank(
    z
      .enum(['http/protobuf', 'http/json'], {
        message: `${name} must be http/json (the default) or http/protobuf; Chorus does not send gRPC (use the collector's HTTP port, 4318)`,
      })
      .optional(),
  )
/** An OTLP/HTTP URL: http or https only. */
const otlpUrl = (name: string, example: string) =>
  blank(
    z.url({ protocol: /^https?$/, message: `${name} must be an http(s) URL such as ${example}` }).optional(),
  )
/** `key=value,key2=value2` (values URL-encoded), as the OpenTelemetry specification has it. */
const otlpHeaders = blank(
  z
    .string()
    .regex(/^\s*[^=,\s]+\s*=[^,]*(,\s*[^=,\s]+\s*=[^,]*)*$/, {
      message:
        'OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas, e.g. x-api-key=abc123',
    })
    .optional(),
)
const flag = (name: string) =>
  blank(
    z
      .string()
      .regex(/^(true|false)$/i, { message: `${name} must be true or false` })
      .optional(),
  ).transform((v) => v?.toLowerCase() === 'true')
const HTTP_PORT_MESSAGE = 'CHORUS_HTTP_PORT must be a port number from 0 (off) to 65535, e.g. 9464'

const schema = z.object({
  OPENAI_API_KEY: text,
  OPENAI_BASE_URL: url('http://localhost:11434/v1')('OPENAI_BASE_URL'),
  CHORUS_MODEL: text,
  SLACK_BOT_TOKEN: text,
  SLACK_APP_TOKEN: text,
  SLACK_SIGNING_SECRET: text,
  SLACK_API_URL: url('https://slack.com/api/')('SLACK_API_URL'),
  /** Many workspaces (OAuth install): the app's credentials, from Basic Information → App Credentials. */
  SLACK_CLIENT_ID: text,
  SLACK_CLIENT_SECRET: text,
  /** Signs the install's state parameter (any long random string). */
  SLACK_STATE_SECRET: text,
  /** Where Slack reaches this deployment, e.g. https://chorus.example.com: the redirect URL and the manifest's URLs. */
  SLACK_PUBLIC_URL: url('https://chorus.example.com')('SLACK_PUBLIC_URL'),
  /** Seals stored platform tokens (AES-256-GCM): 32 random bytes in base64 (`openssl rand -base64 32`). */
  CHORUS_ENCRYPTION_KEY: blank(
    z
      .string()
      .refine((v) => /^[A-Za-z0-9+/_-]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, {
        message:
          'CHORUS_ENCRYPTION_KEY must be 32 random bytes in base64, e.g. the output of `openssl rand -base64 32`',
      })
      .optional(),
  ),
  DISCORD_TOKEN: text,
  DISCORD_APP_ID: text,
  DISCORD_API_URL: url('https://discord.com/api')('DISCORD_API_URL'),
  /** Set: Discord reaches Chorus over HTTP (`POST /discord/interactions` on PORT), not the gateway. */
  DISCORD_PUBLIC_KEY: text,
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
  /** Commands one platform user may start, e.g. `10/1h`. */
  CHORUS_USER_LIMIT: rate('CHORUS_USER_LIMIT'),
  /** Commands one Slack channel (one Discord guild) may start, e.g. `30/1h`. */
  CHORUS_CHANNEL_LIMIT: rate('CHORUS_CHANNEL_LIMIT'),
  /** Tokens one run may spend; at it, unfinished branches are cancelled and the run ends with what it has. */
  CHORUS_RUN_TOKEN_BUDGET: tokens('CHORUS_RUN_TOKEN_BUDGET'),
  /** Tokens one Slack workspace (one Discord guild) may spend per UTC day. */
  CHORUS_DAILY_TOKEN_BUDGET: tokens('CHORUS_DAILY_TOKEN_BUDGET'),
  /** Model prices for the usage line's cost estimate, added to (or overriding) the built-in table. */
  CHORUS_PRICES: blank(pricesSchema.optional()),
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
  /**
   * Turns the run inspector on (`/runs` on CHORUS_HTTP_PORT): every request must carry it. It shows
   * people's prompts, so it must be long enough not to be guessed.
   */
  CHORUS_INSPECTOR_TOKEN: blank(
    z
      .string()
      .min(16, {
        message:
          'CHORUS_INSPECTOR_TOKEN must be at least 16 characters, e.g. the output of `openssl rand -hex 24`',
      })
      .optional(),
  ),
  /** Where the inspector links a run's trace: a URL with `{traceId}` in it. */
  CHORUS_TRACE_URL: blank(
    z
      .url({
        message:
          'CHORUS_TRACE_URL must be a URL with {traceId} in it, e.g. http://localhost:16686/trace/{traceId}',
      })
      .refine((v) => v.includes('{traceId}') && /^https?:\/\//i.test(v), {
        message:
          'CHORUS_TRACE_URL must be an http(s) URL with {traceId} in it, e.g. http://localhost:16686/trace/{traceId}',
      })
      .optional(),
  ),
  /** Traces (OpenTelemetry, OTLP over HTTP): on when an endpoint is set; see src/trace. */
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpUrl('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://localhost:4318'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpUrl(
    'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
    'http://localhost:4318/v1/traces',
  ),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol('OTEL_EXPORTER_OTLP_PROTOCOL'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'),
  OTEL_EXPORTER_OTLP_HEADERS: otlpHeaders,
  OTEL_SERVICE_NAME: blank(z.string().default('chorus')),
  /** Prompts and answers on `chat` spans (opt-in: they are what people typed). */
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: flag(
    'OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT',
  ),
  OTEL_SDK_DISABLED: flag('OTEL_SDK_DISABLED'),
  /** How often finished spans are sent (the batch processor's delay). */
  OTEL_BSP_SCHEDULE_DELAY: blank(
    z.coerce
      .number({ message: 'OTEL_BSP_SCHEDULE_DELAY must be a number of milliseconds, e.g. 5000' })
      .int()
      .min(1)
      .max(600_000)
      .default(5_000),
  ),
  /** Most model calls in flight across all runs. */
  CHORUS_CONCURRENCY: blank(
    z.coerce.number({ message: 'CHORUS_CONCURRENCY must be a number' }).int().min(1).max(256).default(16),
  ),
})

export type Config = z.output<typeof schema> & {
  /**
   * Model names by flow (`vote`) or by a flow's judge step (`vote.judge`), from `CHORUS_MODEL_VOTE`
   * and `CHORUS_MODEL_VOTE_JUDGE`; `CHORUS_MODEL` (or the provider default) is used for the rest.
   */
  CHORUS_MODELS: Record<string, string>
}

const MODEL_VAR = /^CHORUS_MODEL_([A-Z0-9_]+)$/

/** `CHORUS_MODEL_<FLOW>` and `CHORUS_MODEL_<FLOW>_JUDGE`, keyed `flow` and `flow.judge`. */
function modelsOf(env: Record<string, string | undefined>): Record<string, string> {
  const models: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    const m = MODEL_VAR.exec(name)
    const model = value?.trim()
    if (m === null || model === undefined || model === '') continue
    const key = (m[1] as string).toLowerCase()
    models[key.endsWith('_judge') ? `${key.slice(0, -'_judge'.length)}.judge` : key] = model
  }
  return models
}

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
  return { ...parsed.data, CHORUS_MODELS: modelsOf(env) }
}
