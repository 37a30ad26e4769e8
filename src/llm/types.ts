/** Token usage of one or more model calls. */
export interface Usage {
  promptTokens: number
  completionTokens: number
  calls: number
  /** The model the server says answered (its response's `model`), when it said. */
  model?: string
}

/** Options for one model call. */
export interface TextOptions {
  system?: string
  temperature?: number
  maxTokens?: number
  /** Aborts the HTTP request (or the demo model's wait) at once. */
  signal?: AbortSignal
  /** This request's own timeout; the model's default when longer or unset (a step passes what it has left). */
  timeoutMs?: number
  /** Called once per finished call with the tokens it spent. */
  onUsage?: (usage: Usage) => void
  /**
   * Called as the answer is written, with all of its text so far (a retried call starts again from
   * nothing). JSON calls are not streamed and do not call it.
   */
  onText?: (textSoFar: string) => void
  /** The reply must be JSON of this schema: structured output where the server supports `response_format`. */
  json?: { name: string; schema: Record<string, unknown> }
}

/** Options for sampling one prompt k times. */
export interface SampleOptions extends TextOptions {
  /** Called with each sample as it finishes, in finishing order; returning true stops: the rest are aborted. */
  onSample?: (text: string) => boolean | undefined
  /** Runs each request to the server (the bot's shared limiter: one slot per request). */
  schedule?: <T>(call: () => Promise<T>) => Promise<T>
}

/** What a sampling returned. */
export interface Samples {
  /** In finishing order. A sample may be empty text (the voter had nothing to say). */
  texts: string[]
  /** Samples that failed (requests that errored, choices a broken stream never finished). */
  failed: number
  /** The first failure, when there was one. */
  error?: Error
  /** Samples not waited for because `onSample` stopped the sampling. */
  notNeeded: number
}

/** What flows use to talk to a model. */
export interface LanguageModel {
  /** e.g. `openai:gpt-4o-mini` or `demo`. */
  readonly id: string
  /** True for the offline demo model: replies say their text is not from a real model. */
  readonly demo: boolean
  /** One completion for one prompt. */
  text(prompt: string, options?: TextOptions): Promise<string>
  /**
   * k completions of one prompt, each reported as it finishes: the Chat Completions `n` parameter where
   * the server honours it (the prompt is billed once), else k parallel calls.
   */
  samples(prompt: string, k: number, options?: SampleOptions): Promise<Samples>
  /** The same provider with another model name (CHORUS_MODEL_<FLOW>); absent where names mean nothing (demo). */
  withModel?(name: string): LanguageModel
}

export type ModelErrorCode =
  | 'model_timeout'
  | 'model_rate_limited'
  | 'model_unavailable'
  | 'model_bad_response'
  | 'model_auth'
  | 'model_bad_request'
  | 'model_aborted'

/** A failed model call, classified so the engine knows whether to retry and how long to wait. */
export class ModelError extends Error {
  readonly code: ModelErrorCode
  /** The engine retries transient errors (timeouts, 429, 5xx, garbage bodies, dropped connections). */
  readonly transient: boolean
  /** From `retry-after-ms` / `retry-after`, when the server sent one. */
  readonly retryAfterMs: number | undefined
  readonly status: number | undefined

  constructor(
    code: ModelErrorCode,
    message: string,
    extra: { transient?: boolean; retryAfterMs?: number; status?: number; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'ModelError'
    this.code = code
    this.transient = extra.transient ?? false
    this.retryAfterMs = extra.retryAfterMs
    this.status = extra.status
  }
}
