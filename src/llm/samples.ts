import type { SampleOptions, Samples, TextOptions } from './types.ts'
import { ModelError } from './types.ts'

/**
 * k samples as k parallel calls of `one`, for models without a batched `n`: each finished sample goes
 * to `onSample` at once; when it says stop, the calls still running are aborted.
 */
export async function parallelSamples(
  k: number,
  one: (options: TextOptions) => Promise<string>,
  options: SampleOptions = {},
): Promise<Samples> {
  const result: Samples = { texts: [], failed: 0, notNeeded: 0 }
  const stop = new AbortController()
  const signal = options.signal === undefined ? stop.signal : AbortSignal.any([options.signal, stop.signal])
  const schedule = options.schedule ?? (<T>(call: () => Promise<T>) => call())
  // Each sample is reported whole by `onSample`: k answers written at once are not one text.
  const { onSample, schedule: _, onText: __, ...rest } = options
  await Promise.all(
    Array.from({ length: k }, () =>
      schedule(() => one({ ...rest, signal })).then(
        (text) => {
          if (stop.signal.aborted) return
          result.texts.push(text)
          if (onSample?.(text) === true) stop.abort()
        },
        (error: unknown) => {
          if (stop.signal.aborted || options.signal?.aborted) return
          result.failed++
          result.error ??= error as Error
        },
      ),
    ),
  )
  if (options.signal?.aborted) throw new ModelError('model_aborted', 'The model call was cancelled')
  if (result.texts.length === 0 && result.error !== undefined) throw result.error
  result.notNeeded = k - result.texts.length - result.failed
  return result
}
