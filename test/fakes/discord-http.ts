/**
 * How the fake Discord delivers interactions over HTTP, as Discord does to an Interactions Endpoint
 * URL: a real Ed25519 key pair (the app's "public key" is its hex), every POST signed over
 * `X-Signature-Timestamp + body`, a fresh connection per POST (so a load balancer in front spreads
 * them), a 3 s limit on the answer, and, now and then, a copy of a real interaction with a broken
 * signature that the endpoint must refuse with 401 (Discord's routine security checks; Discord
 * removes an endpoint URL that accepts one).
 */
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { request } from 'node:http'

/** An app's signing keys: Discord keeps the private one; the endpoint is given `publicKeyHex`. */
export interface Signer {
  publicKeyHex: string
  sign(timestamp: string, body: string): string
}

export function newSigner(): Signer {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const x = (publicKey.export({ format: 'jwk' }) as { x: string }).x
  return {
    publicKeyHex: Buffer.from(x, 'base64url').toString('hex'),
    sign: (timestamp, body) => signWith(privateKey, timestamp, body),
  }
}

function signWith(key: KeyObject, timestamp: string, body: string): string {
  return sign(null, Buffer.from(timestamp + body, 'utf8'), key).toString('hex')
}

/** One POST to the endpoint and what came back. */
export interface Delivery {
  /** The interaction's id (undefined for a PING). */
  id: string | undefined
  type: number
  /** `interaction`: a real one; `check`: a security check with a broken signature; `raw`: sent by a test as it is. */
  kind: 'interaction' | 'check' | 'raw'
  /** The HTTP status, or 0 when the endpoint did not answer (refused, reset, or past `timeoutMs`). */
  status: number
  contentType: string | undefined
  body: string
  ms: number
}

/** POSTs `body` with the signature headers given, on a connection of its own; never rejects. */
export function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs = 3_000,
): Promise<Omit<Delivery, 'id' | 'type' | 'kind'>> {
  const t0 = performance.now()
  return new Promise((resolve) => {
    const done = (status: number, contentType: string | undefined, text: string) =>
      resolve({ status, contentType, body: text, ms: performance.now() - t0 })
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)',
          ...headers,
        },
        timeout: timeoutMs,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          text += c
        })
        res.on('end', () => done(res.statusCode ?? 0, res.headers['content-type'], text))
        res.on('error', () => done(0, undefined, text))
      },
    )
    // Discord gives up after 3 s: the interaction fails for the user.
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', () => done(0, undefined, ''))
    req.end(body)
  })
}

/** The headers of a correctly signed POST, `ageSec` seconds old by its timestamp. */
export function signedHeaders(signer: Signer, body: string, ageSec = 0): Record<string, string> {
  const timestamp = String(Math.floor(Date.now() / 1000) - ageSec)
  return { 'x-signature-ed25519': signer.sign(timestamp, body), 'x-signature-timestamp': timestamp }
}

/** The same request with one bit of its signature flipped: what Discord's security checks send. */
export function brokenHeaders(signer: Signer, body: string): Record<string, string> {
  const headers = signedHeaders(signer, body)
  const sig = Buffer.from(headers['x-signature-ed25519'] as string, 'hex')
  sig[sig.length - 1] = (sig[sig.length - 1] as number) ^ 1
  return { ...headers, 'x-signature-ed25519': sig.toString('hex') }
}
