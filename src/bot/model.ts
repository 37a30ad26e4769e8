import type { FairLimiter, UsageReport } from '../engine/index.ts'
import type { LanguageModel, TextOptions } from '../llm/index.ts'

/** A model for one step: every call waits for the shared limiter (fair by run) and reports its usage. */
export function stepModel(
  model: LanguageModel,
  limiter: FairLimiter,
  runId: string,
  reportUsage: (u: UsageReport) => void,
): LanguageModel {
  const wrap = (options: TextOptions | undefined): TextOptions => ({
    ...options,
    onUsage: (u) => {
      reportUsage(u)
      options?.onUsage?.(u)
    },
  })
  return {
    id: model.id,
    demo: model.demo,
    text: (prompt, options) => limiter.run(runId, () => model.text(prompt, wrap(options)), options?.signal),
    // One limiter slot per request, not per sampling: k parallel requests take k slots.
    samples: (prompt, k, options) =>
      model.samples(prompt, k, {
        ...wrap(options),
        schedule: (call) => limiter.run(runId, call, options?.signal),
      }),
  }
}
