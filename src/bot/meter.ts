import type { UsageReport } from '../engine/index.ts'
import type { UsageLine } from './types.ts'

/**
 * Adds up one run's usage events: per model for the usage line, against CHORUS_RUN_TOKEN_BUDGET
 * (`onBudget` once the total reaches it) and into the workspace's daily total (`spend`).
 */
export class RunMeter {
  readonly #modelOf: (step: string) => string
  readonly #budget: number | undefined
  readonly #onBudget: () => void
  readonly #spend: (tokens: number) => void
  readonly #models = new Set<string>()
  #calls = 0
  #tokens = 0
  #reached = false

  constructor(options: {
    modelOf(step: string): string
    budget: number | undefined
    onBudget(): void
    spend(tokens: number): void
  }) {
    this.#modelOf = options.modelOf
    this.#budget = options.budget
    this.#onBudget = options.onBudget
    this.#spend = options.spend
  }

  add(step: string, usage: UsageReport): void {
    const tokens = usage.promptTokens + usage.completionTokens
    this.#models.add(this.#modelOf(step))
    this.#calls += usage.calls
    this.#tokens += tokens
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
    return {
      models: [...this.#models],
      calls: this.#calls,
      tokens: this.#tokens,
      ...(this.#reached && this.#budget !== undefined ? { budgetReached: this.#budget } : {}),
    }
  }
}
