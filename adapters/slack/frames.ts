import { z } from 'zod'
import { truncate } from '../../src/bot/index.ts'

const Envelope = z.object({ envelope_id: z.string().min(1), payload: z.object({}) })
/** What @slack/socket-mode 3.1's message handler reads from each frame type without checking. */
const FRAMES: Record<string, z.ZodType> = {
  hello: z.object({}),
  disconnect: z.object({ reason: z.string().optional() }),
  events_api: Envelope.extend({ payload: z.object({ event: z.object({ type: z.string() }) }) }),
}
const Frame = z.object({ type: z.string() })

/** How much of a malformed frame the warning carries. */
const FRAME_LOG_CHARS = 1_000
/** Values that must not reach a log: the legacy verification token and the reply capability. */
const SECRET_KEYS = new Set(['token', 'response_url'])

export type ReadFrame =
  | { ok: true; type: string; frame: unknown }
  | { ok: false; frame: unknown; problem: string }

/** A Socket Mode text frame, checked for what the client would read from it unchecked. */
export function readFrame(text: string): ReadFrame {
  let frame: unknown
  try {
    frame = JSON.parse(text)
  } catch {
    return { ok: false, frame: undefined, problem: 'not JSON' }
  }
  const base = Frame.safeParse(frame)
  const checked = base.success ? (FRAMES[base.data.type] ?? Envelope).safeParse(frame) : base
  if (!checked.success) return { ok: false, frame, problem: z.prettifyError(checked.error) }
  return { ok: true, type: (frame as { type: string }).type, frame }
}

/** The copy of a malformed frame a log may carry: secrets redacted, length capped. */
export function loggedFrame(text: string, frame: unknown): string {
  return truncate(redacted(text, frame), FRAME_LOG_CHARS)
}

function redacted(text: string, frame: unknown): string {
  if (typeof frame !== 'object' || frame === null) return text
  return JSON.stringify(frame, (key, value: unknown) => (SECRET_KEYS.has(key) ? '[redacted]' : value))
}
