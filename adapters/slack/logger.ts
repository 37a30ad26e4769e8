import { type Logger as BoltLogger, LogLevel } from '@slack/bolt'
import type { Logger } from 'pino'

/** bolt warns this for every event its authorize refused; Chorus' error handler says why, once in a while. */
const AUTHORIZE_FAILED = 'Authorization of incoming event did not succeed'

/** Bolt's logger interface on top of pino; bolt's own chatter is kept at warn and above. */
export function boltLogger(log: Logger): BoltLogger {
  const text = (msg: unknown[]) =>
    msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ')
  return {
    debug: (...msg) => log.debug({ source: 'bolt' }, text(msg)),
    info: (...msg) => log.debug({ source: 'bolt' }, text(msg)),
    warn: (...msg) => {
      const line = text(msg)
      if (line.startsWith(AUTHORIZE_FAILED)) log.debug({ source: 'bolt' }, line)
      else log.warn({ source: 'bolt' }, line)
    },
    error: (...msg) => log.error({ source: 'bolt' }, text(msg)),
    setLevel: () => {},
    getLevel: () => LogLevel.WARN,
    setName: () => {},
  }
}
