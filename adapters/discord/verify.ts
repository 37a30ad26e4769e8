import { createPublicKey, type KeyObject, verify } from 'node:crypto'

/** How far X-Signature-Timestamp may be from our clock: older requests are refused as replays. */
export const REPLAY_WINDOW_MS = 5 * 60_000

/** The application's Ed25519 public key (64 hex characters, General Information in the Developer Portal). */
export function publicKeyOf(hex: string): KeyObject {
  const x = Buffer.from(hex, 'hex').toString('base64url')
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
}

/**
 * Why a request did not come from Discord, or undefined when it did: Ed25519 over the timestamp
 * followed by the exact body bytes, with the key Discord signs with; and a timestamp inside the
 * replay window (Discord's docs do not ask for one; without it a recorded request could be sent
 * again for ever).
 */
export function unverified(
  key: KeyObject,
  headers: { signature: string | undefined; timestamp: string | undefined },
  rawBody: Buffer,
  now = Date.now(),
): string | undefined {
  const { signature, timestamp } = headers
  if (signature === undefined || timestamp === undefined) return 'no signature headers'
  if (!/^[0-9a-f]{128}$/i.test(signature)) return 'a signature that is not 64 bytes of hex'
  if (!/^\d{1,12}$/.test(timestamp)) return 'a timestamp that is not Unix seconds'
  const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody])
  if (!verify(null, signed, key, Buffer.from(signature, 'hex'))) return 'a bad signature'
  if (Math.abs(now - Number(timestamp) * 1000) > REPLAY_WINDOW_MS)
    return 'a timestamp outside the replay window'
  return undefined
}
