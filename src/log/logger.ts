import { type Logger, pino } from 'pino'

/** Paths that may carry secrets; pino replaces them with [redacted]. */
const REDACT = [
  'token',
  '*.token',
  'headers.authorization',
  '*.headers.authorization',
  'config.OPENAI_API_KEY',
  'config.SLACK_BOT_TOKEN',
  'config.SLACK_APP_TOKEN',
  'config.SLACK_SIGNING_SECRET',
  'config.DISCORD_TOKEN',
  'apiKey',
  '*.apiKey',
]

/** JSON logs by default; `pretty` for the console adapter. */
export function createLogger(
  level: string,
  options: { pretty?: boolean; destination?: number } = {},
): Logger {
  return pino({
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    ...(options.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, destination: options.destination ?? 2, ignore: 'pid,hostname' },
          },
        }
      : {}),
  })
}
