import OpenAI from 'openai'
import { type LanguageModel, ModelError, type TextOptions, type Usage } from './types.ts'

export interface OpenAIModelOptions {
  apiKey: string
  baseURL?: string
  model: string
  /** Per-request timeout; default 60 s. A call's `timeoutMs` shortens it to fit the step's time left. */
  timeoutMs?: number
}

/**
 * A model on any OpenAI-compatible Chat Completions server. The SDK's own retries are off
 * (`maxRetries: 0`): its waits ignore the AbortSignal and accept any Retry-After, so the engine
 * owns the retry loop and this class only classifies each failure (DESIGN.md, Timeouts and retries).
 */
export class OpenAIModel implements LanguageModel {
  readonly id: string
  readonly demo = false
  readonly #client: OpenAI
  readonly #model: string
  readonly #timeoutMs: number

  constructor(options: OpenAIModelOptions) {
    this.#model = options.model
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.id = `openai:${options.model}`
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
      maxRetries: 0,
      timeout: this.#timeoutMs,
    })
  }

  async text(prompt: string, options: TextOptions = {}): Promise<string> {
    const [first] = await this.#complete(prompt, 1, options)
    return first as string
  }

  /** k completions: one request with `n: k`; servers that ignore `n` are topped up with parallel single calls. */
  async samples(prompt: string, k: number, options: TextOptions = {}): Promise<string[]> {
    if (k < 1) return []
    const got = await this.#complete(prompt, k, options)
    if (got.length >= k) return got.slice(0, k)
    const rest = await Promise.all(
      Array.from({ length: k - got.length }, () => this.#complete(prompt, 1, options)),
    )
    return [...got, ...rest.map((r) => r[0] as string)]
  }

  async #complete(prompt: string, n: number, options: TextOptions): Promise<string[]> {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = []
    if (options.system !== undefined) messages.push({ role: 'system', content: options.system })
    messages.push({ role: 'user', content: prompt })
    let completion: OpenAI.Chat.ChatCompletion
    try {
      completion = await this.#client.chat.completions.create(
        {
          model: this.#model,
          messages,
          ...(n > 1 ? { n } : {}),
          ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
          ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens }),
        },
        {
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          timeout: Math.max(1, Math.min(this.#timeoutMs, options.timeoutMs ?? this.#timeoutMs)),
        },
      )
    } catch (error) {
      throw classify(error, options.signal)
    }
    const texts = (Array.isArray(completion?.choices) ? completion.choices : [])
      .map((c) => c?.message?.content)
      .filter((t): t is string => typeof t === 'string' && t.trim().length > 0)
    if (texts.length === 0) {
      throw new ModelError('model_bad_response', 'The model server answered without any text', {
        transient: true,
      })
    }
    const usage: Usage = {
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
      calls: 1,
    }
    options.onUsage?.(usage)
    return texts
  }
}

/** Turns whatever the SDK threw into a ModelError the engine can act on. */
export function classify(error: unknown, signal?: AbortSignal): ModelError {
  if (error instanceof ModelError) return error
  if (signal?.aborted || error instanceof OpenAI.APIUserAbortError) {
    return new ModelError('model_aborted', 'The model call was cancelled', { cause: error })
  }
  if (error instanceof OpenAI.APIConnectionTimeoutError) {
    return new ModelError('model_timeout', 'The model server did not answer in time', {
      transient: true,
      cause: error,
    })
  }
  if (error instanceof OpenAI.APIConnectionError) {
    return new ModelError('model_unavailable', 'Could not reach the model server', {
      transient: true,
      cause: error,
    })
  }
  if (error instanceof OpenAI.APIError) {
    const status = error.status
    const extra = { status, cause: error } as { status?: number; cause: unknown }
    if (status === 429) {
      const retryAfterMs = retryAfter(error.headers)
      return new ModelError('model_rate_limited', 'The model server is rate limiting us', {
        ...extra,
        transient: true,
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      })
    }
    if (status === 401 || status === 403) {
      return new ModelError(
        'model_auth',
        'The model server rejected the API key; check OPENAI_API_KEY',
        extra,
      )
    }
    if (status === 408 || status === 409 || (status !== undefined && status >= 500)) {
      return new ModelError('model_unavailable', `The model server failed (HTTP ${status})`, {
        ...extra,
        transient: true,
      })
    }
    if (status === undefined) {
      // The SDK raises a status-less APIError for bodies it cannot parse.
      return new ModelError('model_bad_response', 'The model server sent an unreadable answer', {
        ...extra,
        transient: true,
      })
    }
    return new ModelError(
      'model_bad_request',
      `The model server refused the request (HTTP ${status}); check CHORUS_MODEL`,
      extra,
    )
  }
  if (error instanceof SyntaxError) {
    return new ModelError('model_bad_response', 'The model server sent an unreadable answer', {
      transient: true,
      cause: error,
    })
  }
  return new ModelError(
    'model_bad_response',
    `Unexpected model failure: ${(error as Error)?.message ?? String(error)}`,
    {
      transient: true,
      cause: error,
    },
  )
}

/** `retry-after-ms`, or `retry-after` as seconds or an HTTP date (what OpenAI and proxies send). */
export function retryAfter(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms') ?? Number.NaN)
  if (Number.isFinite(ms) && ms >= 0) return ms
  const raw = headers?.get('retry-after')
  if (raw == null) return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now())
}
