import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { ChorusError } from '../errors.ts'

/** A sealed value could not be opened: another key sealed it, or it was changed. */
export class SealError extends ChorusError {}

const VERSION = 'v1'
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * AES-256-GCM with one 32-byte key (CHORUS_ENCRYPTION_KEY): what a store keeps of a secret is
 * `v1.<iv.tag.ciphertext in base64url>`. `context` (e.g. the installation's key) is bound in as
 * associated data, so a sealed value moved to another key does not open there.
 */
export class Sealer {
  readonly #key: Buffer

  constructor(key: Buffer) {
    if (key.length !== 32) throw new RangeError('an AES-256-GCM key is 32 bytes')
    this.#key = key
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(context))
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`
  }

  open(sealed: string, context: string): string {
    const [version, data] = sealed.split('.')
    const raw = Buffer.from(data ?? '', 'base64url')
    if (version !== VERSION || raw.length < IV_BYTES + TAG_BYTES)
      throw new SealError('sealed_invalid', `the stored value for ${context} is not sealed by Chorus`)
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES))
      decipher.setAAD(Buffer.from(context))
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
        'utf8',
      )
    } catch (error) {
      throw new SealError(
        'sealed_wrong_key',
        `the stored value for ${context} does not open with CHORUS_ENCRYPTION_KEY (another key sealed it, or it was changed)`,
        { cause: error },
      )
    }
  }
}
