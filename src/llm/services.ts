import type { LanguageModel } from './types.ts'

// Every flow step receives the run's model as `ctx.llm`.
declare module '../engine/flow.ts' {
  interface FlowServices {
    llm: LanguageModel
  }
}
