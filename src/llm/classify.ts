/** What a failed model call was, for the engine: retry it or not, and how long to wait first. */
import OpenAI from 'openai'
import { ModelError } from './types.ts'

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
