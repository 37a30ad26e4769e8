import type { StepServiceArgs } from '../../engine/index.ts'
import type { LanguageModel, TextOptions } from '../../llm/index.ts'

/**
 * A model for one step: every call waits for a slot of the run's limiter (fair by run, the step's
 * timeout standing still meanwhile), gets the step's time left as its request timeout, and reports
 * its usage and, as it is written, its text.
 */
export function stepModel(
  model: LanguageModel,
  { slot, reportUsage }: Pick<StepServiceArgs, 'slot' | 'reportUsage'>,
  /** The step's answer as it is written (the reply streams the leading branch's text). */
  onText?: (textSoFar: string) => void,
): LanguageModel {
  const wrap = (options: TextOptions | undefined, timeoutMs: number | undefined): TextOptions => ({
    ...options,
    ...(onText === undefined
      ? {}
      : {
          onText: (t: string) => {
            onText(t)
            options?.onText?.(t)
          },
        }),
    ...(timeoutMs === undefined ? {} : { timeoutMs: Math.min(timeoutMs, options?.timeoutMs ?? timeoutMs) }),
    onUsage: (u) => {
      reportUsage(u)
      options?.onUsage?.(u)
    },
  })
  return {
    id: model.id,
    demo: model.demo,
    text: (prompt, options) => slot((ms) => model.text(prompt, wrap(options, ms)), options?.signal),
    // One limiter slot per request, not per sampling: k parallel requests take k slots.
    samples: (prompt, k, options) =>
      model.samples(prompt, k, {
        ...wrap(options, undefined),
        schedule: (call) => slot(() => call(), options?.signal),
      }),
  }
}
