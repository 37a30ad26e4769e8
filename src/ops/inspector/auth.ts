import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'

/** The cookie a browser keeps after opening `/runs?token=…`. */
const COOKIE = 'chorus_inspector'
/** How long that cookie lasts. */
const COOKIE_MAX_AGE_S = 12 * 3_600

export type Verdict =
  /** The token came with the request (Bearer or cookie). */
  | { ok: true }
  /** A right `?token=`: set the cookie and send the browser to the same page without it. */
  | { ok: 'redirect'; location: string; cookie: string }
  | { ok: false }

/**
 * Who may read runs: requests with CHORUS_INSPECTOR_TOKEN as `Authorization: Bearer`, as `?token=`
 * (which sets an HttpOnly, SameSite=Strict cookie and redirects, so the token leaves the address bar
 * and browsing goes on), or with that cookie. The cookie holds an HMAC of the token, not the token.
 * Every comparison is of SHA-256 digests in constant time.
 */
export class InspectorAuth {
  readonly #token: Buffer
  readonly #session: string

  constructor(token: string) {
    this.#token = digest(token)
    this.#session = createHmac('sha256', token).update('chorus inspector session').digest('hex')
  }

  check(req: IncomingMessage, url: URL): Verdict {
    const given = url.searchParams.get('token')
    if (given !== null) {
      if (!this.#is(given)) return { ok: false }
      const clean = new URL(url)
      clean.searchParams.delete('token')
      return {
        ok: 'redirect',
        location: `${clean.pathname}${clean.search}`,
        cookie: `${COOKIE}=${this.#session}; Path=/runs; HttpOnly; SameSite=Strict; Max-Age=${COOKIE_MAX_AGE_S}`,
      }
    }
    const header = req.headers.authorization
    if (header !== undefined) {
      const bearer = /^Bearer +(.+)$/i.exec(header)?.[1]
      return { ok: bearer !== undefined && this.#is(bearer) }
    }
    const cookie = cookieValue(req.headers.cookie, COOKIE)
    if (cookie === undefined) return { ok: false }
    return { ok: timingSafeEqual(digest(cookie), digest(this.#session)) }
  }

  #is(candidate: string): boolean {
    return timingSafeEqual(digest(candidate.trim()), this.#token)
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}
