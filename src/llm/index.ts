import { DemoModel } from './demo.ts'
import { OpenAIModel } from './openai.ts'
import type { LanguageModel } from './types.ts'

export { dedupeIdeas, type Idea, leaderDecided, majority, type Tally } from './aggregate.ts'
export { classify, retryAfter } from './classify.ts'
export { DemoModel, type DemoModelOptions } from './demo.ts'
export { type Consumer, SampleFeed } from './feed.ts'
export { type Pick, pickMostConsistent, readVerdict } from './judge.ts'
export { answerKind, extractAnswer, INVALID, normalizeAnswer } from './normalize.ts'
export { OpenAIModel, type OpenAIModelOptions } from './openai.ts'
export { costOf, DEFAULT_PRICES, type Price, pricesSchema } from './prices.ts'
export { hash, mulberry32 } from './random.ts'
export { parallelSamples } from './samples.ts'
export type {} from './services.ts'
export {
  type LanguageModel,
  ModelError,
  type ModelErrorCode,
  type SampleOptions,
  type Samples,
  type TextOptions,
  type Usage,
} from './types.ts'

/** The OpenAI-compatible model when a key is set, else the offline demo model. */
export function createModel(env: {
  OPENAI_API_KEY?: string | undefined
  OPENAI_BASE_URL?: string | undefined
  CHORUS_MODEL?: string | undefined
}): LanguageModel {
  if (env.OPENAI_API_KEY === undefined || env.OPENAI_API_KEY === '') return new DemoModel()
  return new OpenAIModel({
    apiKey: env.OPENAI_API_KEY,
    model: env.CHORUS_MODEL ?? 'gpt-4o-mini',
    ...(env.OPENAI_BASE_URL === undefined ? {} : { baseURL: env.OPENAI_BASE_URL }),
  })
}
