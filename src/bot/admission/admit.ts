import type { Config, RateLimit } from '../../config/index.ts'
import type { LimitSpec, RunStore } from '../../store/index.ts'
import { DAY_MS, dailyKey, dailyTtlMs } from './daily.ts'

/** Who asks for a run, as the limits and budgets count it. */
export interface Requester {
  platform: 'slack' | 'discord'
  /** Platform user id (not the display name). */
  user: string
  /** What the channel limit counts: a Slack channel, a Discord guild (the channel in a DM). */
  place: { kind: 'channel' | 'server'; id: string }
  /** What the daily token budget counts: a Slack workspace (team id), a Discord guild; undefined = none. */
  workspace: string | undefined
}

/** A limit is a value: admitted, or refused with when to try again and words for the user. */
export type Admission =
  | { ok: true }
  | { ok: false; code: 'user_limit' | 'channel_limit' | 'daily_budget'; retryAt: number; message: string }

/**
 * Checks a command against CHORUS_USER_LIMIT, CHORUS_CHANNEL_LIMIT and CHORUS_DAILY_TOKEN_BUDGET,
 * counting one use when admitted (a refusal counts nothing). Counts live in the store, so they hold
 * across processes.
 */
export async function admit(
  store: RunStore,
  config: Config,
  who: Requester,
  now: number,
): Promise<Admission> {
  const budget = config.CHORUS_DAILY_TOKEN_BUDGET
  if (budget !== undefined && who.workspace !== undefined) {
    const spent = await store.spend(dailyKey(who.platform, who.workspace, now), 0, dailyTtlMs(now))
    if (spent >= budget) {
      const retryAt = now - (now % DAY_MS) + DAY_MS
      const where = who.platform === 'slack' ? 'This workspace' : 'This server'
      return {
        ok: false,
        code: 'daily_budget',
        retryAt,
        message:
          `${where} has used today's Chorus budget of ${budget.toLocaleString('en-US')} tokens. ` +
          `It resets at ${when(retryAt, now)} (${fromNow(retryAt, now)}).`,
      }
    }
  }
  const limits: Array<{ spec: LimitSpec; rate: RateLimit; code: 'user_limit' | 'channel_limit' }> = []
  const user = config.CHORUS_USER_LIMIT
  if (user !== undefined) {
    limits.push({ spec: spec(`${who.platform}:user:${who.user}`, user), rate: user, code: 'user_limit' })
  }
  const channel = config.CHORUS_CHANNEL_LIMIT
  if (channel !== undefined) {
    const key = `${who.platform}:${who.place.kind}:${who.place.id}`
    limits.push({ spec: spec(key, channel), rate: channel, code: 'channel_limit' })
  }
  if (limits.length === 0) return { ok: true }
  const taken = await store.take(
    limits.map((l) => l.spec),
    now,
  )
  if (taken.ok) return { ok: true }
  const refused = limits[taken.refused] as (typeof limits)[number]
  const whose =
    refused.code === 'user_limit'
      ? 'You have reached your'
      : who.place.kind === 'server'
        ? 'This server has reached its'
        : 'This channel has reached its'
  return {
    ok: false,
    code: refused.code,
    retryAt: taken.retryAt,
    message:
      `${whose} limit of ${countOf(refused.rate)} in ${windowText(refused.rate.windowMs)}. ` +
      `Try again at ${when(taken.retryAt, now)} (${fromNow(taken.retryAt, now)}).`,
  }
}

function spec(key: string, rate: RateLimit): LimitSpec {
  return { key, limit: rate.limit, windowMs: rate.windowMs }
}

function countOf(rate: RateLimit): string {
  return rate.limit === 1 ? '1 command' : `${rate.limit} commands`
}

/** 3_600_000 → `1 hour`, 600_000 → `10 minutes`. */
function windowText(ms: number): string {
  const units: Array<[number, string]> = [
    [DAY_MS, 'day'],
    [3_600_000, 'hour'],
    [60_000, 'minute'],
    [1_000, 'second'],
  ]
  for (const [size, name] of units) {
    if (ms % size !== 0) continue
    const n = ms / size
    return n === 1 ? `1 ${name}` : `${n} ${name}s`
  }
  return `${ms} ms`
}

/** `14:32 UTC`, with the date when it is not today (UTC). */
function when(at: number, now: number): string {
  const iso = new Date(at).toISOString()
  const time = `${iso.slice(11, 16)} UTC`
  return iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10)
    ? time
    : `${time} on ${iso.slice(0, 10)}`
}

/** `in 12 minutes`, rounded up, so trying again then always works. */
function fromNow(at: number, now: number): string {
  const minutes = Math.max(1, Math.ceil((at - now) / 60_000))
  if (minutes < 120) return minutes === 1 ? 'in 1 minute' : `in ${minutes} minutes`
  return `in about ${Math.round(minutes / 60)} hours`
}
