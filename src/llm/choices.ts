/**
 * Reading the choices of one Chat Completions answer, streamed or whole: each choice's text is handed
 * over whole, once, when it finishes, and the answer's tokens are reported, counted by the server or
 * estimated.
 */
import type OpenAI from 'openai'
import { z } from 'zod'
import { ModelError, type Usage } from './types.ts'

/** Where one request's choices go. */
export interface ChoiceSink {
  /** Each finished choice's whole text, in finishing order. */
  take(text: string): void
  /** The answer's text so far, as it streams (single-choice requests only). */
  onText?: ((textSoFar: string) => void) | undefined
  onUsage?: ((usage: Usage) => void) | undefined
  /** The request's signal: a stream broken after it aborted keeps the choices that finished. */
  signal: AbortSignal
  /** The request's messages, for a prompt estimate when the server counts nothing. */
  messages: unknown
}

/**
 * A streamed answer read as its chunks come: deltas are joined per `choice.index` (a chunk may carry
 * several choices, a delta and its finish together, or only usage) and a choice goes to `take` when
 * its `finish_reason` comes.
 */
export class StreamedChoices {
  readonly #sink: ChoiceSink
  readonly #parts = new Map<number, string>()
  #usage: OpenAI.CompletionUsage | undefined
  #model: string | undefined
  /** Choices finished so far. */
  finished = 0

  constructor(sink: ChoiceSink) {
    this.#sink = sink
  }

  add(chunk: OpenAI.Chat.ChatCompletionChunk): void {
    const sink = this.#sink
    for (const choice of chunk.choices ?? []) {
      const index = choice.index ?? 0
      const piece = choice.delta?.content
      if (typeof piece === 'string' && piece.length > 0) {
        const text = (this.#parts.get(index) ?? '') + piece
        this.#parts.set(index, text)
        sink.onText?.(text)
      }
      if (choice.finish_reason != null) {
        this.finished++
        sink.take(this.#parts.get(index) ?? '')
      }
    }
    if (chunk.usage) this.#usage = chunk.usage
    if (typeof chunk.model === 'string' && chunk.model !== '') this.#model = chunk.model
  }

  /**
   * The stream ended, or broke with `error`: reports its usage and returns how many choices finished.
   * A break is thrown again unless the request was aborted after a choice finished.
   */
  end(error?: unknown): number {
    // A stream cut short, or from a server that ignores `stream_options`, has no usage chunk: estimate
    // it so costs are not hidden.
    let written = 0
    for (const part of this.#parts.values()) written += part.length
    report(this.#sink, this.#usage, written, this.#model)
    if (error !== undefined && (!this.#sink.signal.aborted || this.finished === 0)) throw error
    return this.finished
  }
}

const Completion = z.object({
  choices: z.array(
    z.object({
      index: z.number().int().nonnegative().optional(),
      message: z.object({ content: z.string().nullish() }).nullish(),
    }),
  ),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
  model: z.string().nullish(),
})

/**
 * Reads a whole completion (a request that did not stream, or a server that ignored `stream`): every
 * choice goes to `take`, in index order. Returns how many choices there were.
 */
export function readWhole(completion: unknown, sink: ChoiceSink): number {
  const parsed = Completion.safeParse(completion)
  if (!parsed.success)
    throw new ModelError('model_bad_response', 'The model server sent an unreadable answer', {
      transient: true,
      cause: parsed.error,
    })
  const choices = parsed.data.choices
    .map((choice, i) => ({ index: choice.index ?? i, text: choice.message?.content ?? '' }))
    .sort((a, b) => a.index - b.index)
  report(
    sink,
    parsed.data.usage,
    choices.reduce((sum, c) => sum + c.text.length, 0),
    parsed.data.model ?? undefined,
  )
  for (const { text } of choices) sink.take(text)
  return choices.length
}

/** The server's token counts, or an estimate (about 4 characters a token) where it sent none. */
function report(
  sink: ChoiceSink,
  usage: { prompt_tokens: number; completion_tokens: number } | null | undefined,
  written: number,
  model: string | undefined,
): void {
  sink.onUsage?.({
    promptTokens: usage?.prompt_tokens ?? Math.ceil(JSON.stringify(sink.messages).length / 4),
    completionTokens: usage?.completion_tokens ?? Math.ceil(written / 4),
    calls: 1,
    ...(model === undefined || model === '' ? {} : { model }),
  })
}
