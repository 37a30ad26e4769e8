/**
 * Reading the choices of one Chat Completions answer: each choice's text is handed over whole, once,
 * when it finishes, and the answer's tokens are reported, counted by the server or estimated.
 */
import type OpenAI from 'openai'
import type { Usage } from './types.ts'

/** Where one request's choices go. */
export interface ChoiceSink {
  /** Each finished choice's whole text, in finishing order. */
  take(text: string): void
  /** Choice 0's text so far, as it streams (single-choice requests only). */
  onText?: ((textSoFar: string) => void) | undefined
  onUsage?: ((usage: Usage) => void) | undefined
  /** The request's signal: a stream broken after it aborted keeps the choices that finished. */
  signal: AbortSignal
  /** The request's messages, for a prompt estimate when the server counts nothing. */
  messages: unknown
}

/**
 * Reads a streamed answer: deltas are joined per `choice.index` (a chunk may carry several choices, a
 * delta and its finish together, or only usage) and a choice goes to `take` when its `finish_reason`
 * comes. Returns how many choices finished.
 */
export async function readStream(
  chunks: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>,
  sink: ChoiceSink,
): Promise<number> {
  const parts = new Map<number, string>()
  let finished = 0
  let usage: OpenAI.CompletionUsage | undefined
  try {
    for await (const chunk of chunks) {
      for (const choice of chunk.choices ?? []) {
        const index = choice.index ?? 0
        const piece = choice.delta?.content
        if (typeof piece === 'string' && piece.length > 0) {
          const text = (parts.get(index) ?? '') + piece
          parts.set(index, text)
          sink.onText?.(text)
        }
        if (choice.finish_reason != null) {
          finished++
          sink.take(parts.get(index) ?? '')
        }
      }
      if (chunk.usage) usage = chunk.usage
      if (sink.signal.aborted) break
    }
  } catch (error) {
    if (!sink.signal.aborted || finished === 0) throw error
  } finally {
    // A stream cut short sends no usage: estimate it so costs are not hidden.
    report(sink, usage, [...parts.values()].join('').length)
  }
  return finished
}

/** The server's token counts, or an estimate (about 4 characters a token) where it sent none. */
function report(sink: ChoiceSink, usage: OpenAI.CompletionUsage | undefined, written: number): void {
  sink.onUsage?.({
    promptTokens: usage?.prompt_tokens ?? Math.ceil(JSON.stringify(sink.messages).length / 4),
    completionTokens: usage?.completion_tokens ?? Math.ceil(written / 4),
    calls: 1,
  })
}
