import { z } from 'zod'

/** USD per million tokens: what a prompt token (`input`) and a completion token (`output`) cost. */
export interface Price {
  input: number
  output: number
}

/**
 * List prices of common OpenAI models (USD per 1M tokens, standard tier), for the usage line's
 * estimate. Servers of other vendors, local models and newer prices go in CHORUS_PRICES.
 */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = {
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
}

const ENTRY = /^([^=\s,]+)=(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)$/

/** The CHORUS_PRICES syntax: `model=input/output,…` in USD per 1M tokens, e.g. `llama3=0/0,gpt-4o=2.5/10`. */
export const pricesSchema = z.string().transform((text, ctx) => {
  const out: Record<string, Price> = {}
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = ENTRY.exec(part)
    if (m === null) {
      ctx.addIssue({
        code: 'custom',
        message: `CHORUS_PRICES entry "${part}" must look like model=input/output in USD per million tokens, e.g. gpt-4o-mini=0.15/0.6`,
      })
      return z.NEVER
    }
    out[m[1] as string] = { input: Number(m[2]), output: Number(m[3]) }
  }
  return out
})

/** What `promptTokens` and `completionTokens` of `model` cost in USD, or undefined when its price is unknown. */
export function costOf(
  prices: Readonly<Record<string, Price>>,
  model: string,
  promptTokens: number,
  completionTokens: number,
): number | undefined {
  const price = prices[model]
  if (price === undefined) return undefined
  return (promptTokens * price.input + completionTokens * price.output) / 1_000_000
}
