import OpenAI from 'openai'
import { type ChoiceSink, readWhole, StreamedChoices } from './choices.ts'
import { classify } from './classify.ts'
import { type Endpoint, endpointOf, postStreamed } from './stream-post.ts'
import {
  type LanguageModel,
  ModelError,
  type SampleOptions,
  type Samples,
  type TextOptions,
  type Usage,
} from './types.ts'

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
  /** Streamed requests go here over node:http (stream-post.ts); the rest through the SDK. */
  readonly #endpoint: Endpoint
  readonly #model: string
  readonly #timeoutMs: number
  readonly #options: OpenAIModelOptions
  /** Whether the server honours `n` (undefined until the first sampling tells). */
  #n: boolean | undefined
  /** Whether the server accepts `response_format` (undefined until the first JSON call tells). */
  #structured: boolean | undefined
  /**
   * Whether the server streams (undefined until the first call tells): one that refuses `stream`, or
   * ignores it and answers whole, is asked for whole answers from then on.
   */
  #streams: boolean | undefined

  constructor(options: OpenAIModelOptions) {
    this.#options = options
    this.#model = options.model
    this.#timeoutMs = options.timeoutMs ?? 60_000
    this.id = `openai:${options.model}`
    this.#client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
      maxRetries: 0,
      timeout: this.#timeoutMs,
    })
    this.#endpoint = endpointOf(this.#client)
  }

  /** Another model on the same server and key. */
  withModel(name: string): OpenAIModel {
    return name === this.#model ? this : new OpenAIModel({ ...this.#options, model: name })
  }

  /**
   * One completion, streamed (`stream: true`) so `onText` sees the answer as it is written; a JSON
   * call asks for the whole answer at once (a partial JSON document is of no use to anyone).
   */
  async text(prompt: string, options: TextOptions = {}): Promise<string> {
    if (options.json !== undefined) return (await this.#complete(prompt, options))[0] as string
    const signal = options.signal ?? new AbortController().signal
    let answer = ''
    const finished = await this.#request(prompt, 1, options, signal, (text) => {
      answer = text
    })
    if (signal.aborted) throw classify(signal.reason, signal)
    if (finished === 0) throw this.#incomplete()
    if (answer.trim().length === 0) throw this.#empty()
    return answer
  }

  /**
   * k samples, each handed to `onSample` as it finishes. One streamed request with `n: k` while the
   * server honours `n` (notes/llm-aggregation.md §3: the prompt is billed once); a server that answers
   * with one choice, or refuses `n`, is remembered and gets k parallel requests from then on.
   */
  async samples(prompt: string, k: number, all: SampleOptions = {}): Promise<Samples> {
    // Samples are reported whole, by `onSample`; k answers written at once are not one text.
    const { onText: _, ...options } = all
    const result: Samples = { texts: [], failed: 0, notNeeded: 0 }
    if (k < 1) return result
    const stop = new AbortController()
    const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal])
    const take = (text: string): void => {
      if (stop.signal.aborted) return
      result.texts.push(text)
      if (options.onSample?.(text) === true) stop.abort()
    }
    const schedule = options.schedule ?? (<T>(call: () => Promise<T>) => call())
    const fail = (error: unknown, count: number): void => {
      result.failed += count
      result.error ??= classify(error, options.signal)
    }
    let singles = k
    let probing = false
    const streams = this.#streams
    if (k > 1 && this.#n !== false) {
      try {
        const finished = await schedule(() => this.#request(prompt, k, options, signal, take))
        // A server that ignores `n` streams one choice; one that honours it, k.
        if (!stop.signal.aborted && this.#n === undefined) this.#n = finished > 1
        singles = this.#n === false ? k - finished : 0
        if (this.#n !== false && finished < k && !stop.signal.aborted) fail(this.#incomplete(), k - finished)
      } catch (error) {
        const e = classify(error, options.signal)
        if (stop.signal.aborted && !options.signal?.aborted) singles = 0
        else if (e.code === 'model_bad_request' && result.texts.length === 0 && this.#n === undefined) {
          // Perhaps the server refuses `n` > 1 outright: single requests tell (and are what it needs).
          this.#n = false
          probing = true
        } else if (result.texts.length === 0) throw e
        else {
          fail(e, k - result.texts.length)
          singles = 0
        }
      }
    }
    if (singles > 0) {
      const calls = Array.from({ length: singles }, () =>
        schedule(() => this.#request(prompt, 1, options, signal, take)).then(
          (finished) => {
            if (finished === 0 && !signal.aborted) fail(this.#incomplete(), 1)
          },
          (error: unknown) => {
            if (!stop.signal.aborted) fail(error, 1)
          },
        ),
      )
      await Promise.all(calls)
      // Nothing came, or the singles found the server refuses `stream` (the refusal may have been of
      // that, not of `n`): the next sampling asks with `n` again.
      if (probing && (result.texts.length === 0 || (streams === undefined && this.#streams === false)))
        this.#n = undefined
      if (result.texts.length === 0 && result.error !== undefined) throw result.error
    }
    if (options.signal?.aborted) throw classify(options.signal.reason, options.signal)
    result.notNeeded = k - result.texts.length - result.failed
    return result
  }

  /**
   * One request; each finished choice goes to `take`. Returns how many choices finished. Streamed
   * unless the server is known not to stream; the content type says what came back (some gateways
   * ignore `stream` and send one whole completion, read as the whole answer it is and remembered).
   */
  async #request(
    prompt: string,
    n: number,
    options: TextOptions,
    signal: AbortSignal,
    take: (text: string) => void,
  ): Promise<number> {
    const body = { ...this.#body(prompt, options), ...(n > 1 ? { n } : {}) }
    const sink: ChoiceSink = {
      take,
      onText: n === 1 ? options.onText : undefined,
      onUsage: options.onUsage,
      signal,
      messages: body.messages,
    }
    const request = {
      signal,
      timeout: Math.max(1, Math.min(this.#timeoutMs, options.timeoutMs ?? this.#timeoutMs)),
    }
    const streams = this.#streams
    try {
      if (streams === false) return readWhole(await this.#client.chat.completions.create(body, request), sink)
      return await this.#stream(
        { ...body, stream: true, stream_options: { include_usage: true } },
        request,
        sink,
      )
    } catch (error) {
      const e = classify(error, signal)
      // Perhaps the server refuses `stream` (some OpenAI-compatible ones do): a whole answer tells. With
      // n > 1 the refusal may be of `n`; samples() asks single requests, which find out.
      if (e.code !== 'model_bad_request' || streams !== undefined || n > 1 || this.#streams) throw e
      this.#streams = false
      try {
        return readWhole(await this.#client.chat.completions.create(body, request), sink)
      } catch (again) {
        const e2 = classify(again, signal)
        if (e2.code === 'model_bad_request') this.#streams = undefined
        throw e2
      }
    }
  }

  /**
   * One streamed request: its choices read as they come, or a whole answer from a server that
   * ignored `stream` (its content type says so; remembered, as a server that refuses `stream` is).
   */
  async #stream(
    body: object,
    request: { signal: AbortSignal; timeout: number },
    sink: ChoiceSink,
  ): Promise<number> {
    const choices = new StreamedChoices(sink)
    let opened = false
    let whole: string | undefined
    try {
      whole = await postStreamed(
        this.#endpoint,
        JSON.stringify(body),
        { signal: request.signal, timeoutMs: request.timeout },
        {
          open: () => {
            opened = true
            this.#streams = true
          },
          event: (chunk) => choices.add(chunk as OpenAI.Chat.ChatCompletionChunk),
        },
      )
    } catch (error) {
      if (!opened) throw error
      return choices.end(error)
    }
    if (whole === undefined) return choices.end()
    this.#streams = false
    return readWhole(JSON.parse(whole), sink)
  }

  #empty(): ModelError {
    return new ModelError('model_bad_response', 'The model server answered without any text', {
      transient: true,
    })
  }

  #incomplete(): ModelError {
    return new ModelError('model_bad_response', 'The model server ended the answer early', {
      transient: true,
    })
  }

  #body(prompt: string, options: TextOptions) {
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = []
    if (options.system !== undefined) messages.push({ role: 'system', content: options.system })
    messages.push({ role: 'user', content: prompt })
    return {
      model: this.#model,
      messages,
      ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      ...(options.maxTokens === undefined ? {} : { max_tokens: options.maxTokens }),
    }
  }

  /** A JSON call's answer, asked for whole (structured output where the server takes `response_format`). */
  async #complete(prompt: string, options: TextOptions): Promise<string[]> {
    const json = options.json
    const structured = json !== undefined && this.#structured !== false
    let completion: OpenAI.Chat.ChatCompletion
    try {
      completion = await this.#client.chat.completions.create(
        {
          ...this.#body(prompt, options),
          ...(structured
            ? {
                response_format: {
                  type: 'json_schema',
                  json_schema: { name: json.name, schema: json.schema, strict: true },
                },
              }
            : {}),
        },
        {
          ...(options.signal === undefined ? {} : { signal: options.signal }),
          timeout: Math.max(1, Math.min(this.#timeoutMs, options.timeoutMs ?? this.#timeoutMs)),
        },
      )
    } catch (error) {
      const e = classify(error, options.signal)
      // A server without structured output refuses `response_format`: remember, and ask in plain text.
      if (structured && e.code === 'model_bad_request' && this.#structured === undefined) {
        this.#structured = false
        return this.#complete(prompt, options)
      }
      throw e
    }
    if (structured) this.#structured = true
    const texts = (Array.isArray(completion?.choices) ? completion.choices : [])
      .map((c) => c?.message?.content)
      .filter((t): t is string => typeof t === 'string' && t.trim().length > 0)
    if (texts.length === 0) throw this.#empty()
    const usage: Usage = {
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
      calls: 1,
      ...(typeof completion.model === 'string' && completion.model !== '' ? { model: completion.model } : {}),
    }
    options.onUsage?.(usage)
    return texts
  }
}
