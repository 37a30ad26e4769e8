import type { UsageReport } from '../../engine/index.ts'
import { costOf, type Price } from '../../llm/index.ts'
import type { UsageLine } from '../reply/index.ts'

/**
 * Adds up one run's usage events: per model for the usage line, against CHORUS_RUN_TOKEN_BUDGET
 * (`onBudget` once the total reaches it) and into the workspace's daily total (`spend`).
 */
export class RunMeter {
  readonly #modelOf: (step: string) => string
  readonly #budget: number | undefined
  readonly #onBudget: () => void
  readonly #spend: (tokens: number) => void
  readonly #prices: Readonly<Record<string, Price>>
  /** Per model: prompt and completion tokens, for the cost estimate. */
  readonly #models = new Map<string, { prompt: number; completion: number }>()
  #calls = 0
  #tokens = 0
  #prompt = 0
  #completion = 0
  #reached = false

  constructor(options: {
    modelOf(step: string): string
    budget: number | undefined
    onBudget(): void
    spend(tokens: number): void
    /** USD per 1M tokens by model; a model without a price makes the estimate unknown. */
    prices?: Readonly<Record<string, Price>>
  }) {
    this.#prices = options.prices ?? {}
    this.#modelOf = options.modelOf
    this.#budget = options.budget
    this.#onBudget = options.onBudget
    this.#spend = options.spend
  }

  add(step: string, usage: UsageReport): void {
    const tokens = usage.promptTokens + usage.completionTokens
    const model = this.#modelOf(step)
    const used = this.#models.get(model) ?? { prompt: 0, completion: 0 }
    used.prompt += usage.promptTokens
    used.completion += usage.completionTokens
    this.#models.set(model, used)
    this.#calls += usage.calls
    this.#tokens += tokens
    this.#prompt += usage.promptTokens
    this.#completion += usage.completionTokens
    if (tokens > 0) this.#spend(tokens)
    if (!this.#reached && this.#budget !== undefined && this.#tokens >= this.#budget) {
      this.#reached = true
      this.#onBudget()
    }
  }

  get reached(): boolean {
    return this.#reached
  }

  line(): UsageLine {
    let cost: number | undefined = 0
    for (const [model, used] of this.#models) {
      const c = costOf(this.#prices, model, used.prompt, used.completion)
      cost = c === undefined || cost === undefined ? undefined : cost + c
    }
    return {
      models: [...this.#models.keys()],
      calls: this.#calls,
      tokens: this.#tokens,
      promptTokens: this.#prompt,
      completionTokens: this.#completion,
      ...(cost === undefined ? {} : { costUsd: cost }),
      ...(this.#reached && this.#budget !== undefined ? { budgetReached: this.#budget } : {}),
    }
  }
}
