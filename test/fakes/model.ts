import { sleep } from '../../src/engine/index.ts'
import { parallelSamples } from '../../src/llm/index.ts'
import type { LanguageModel, ModelError, SampleOptions, Samples, TextOptions } from '../../src/llm/types.ts'

export interface Scripted {
  text: string
  latencyMs?: number
  /** After `latencyMs`, how long the answer takes to write, a word at a time, to `onText`. */
  writeMs?: number
  error?: ModelError
}

/**
 * An in-process LanguageModel for bot tests: `script(prompt, callIndex)` decides each answer.
 * (The openai SDK itself is tested against test/fakes/openai.ts over HTTP.)
 */
export class ScriptedModel implements LanguageModel {
  readonly id = 'scripted'
  readonly demo = false
  readonly calls: Array<{ prompt: string; aborted: boolean }> = []
  readonly #script: (prompt: string, call: number) => Scripted

  constructor(script: (prompt: string, call: number) => Scripted) {
    this.#script = script
  }

  async text(prompt: string, options: TextOptions = {}): Promise<string> {
    const record = { prompt, aborted: false }
    this.calls.push(record)
    const answer = this.#script(prompt, this.calls.length - 1)
    try {
      await sleep(answer.latencyMs ?? 0, options.signal)
      const words = answer.text.split(/(?<=\s)/)
      for (let i = 1; answer.writeMs !== undefined && i <= words.length; i++) {
        options.onText?.(words.slice(0, i).join(''))
        if (i < words.length) await sleep(answer.writeMs / words.length, options.signal)
      }
    } catch (error) {
      record.aborted = true
      throw error
    }
    if (answer.error !== undefined) throw answer.error
    options.onUsage?.({ promptTokens: 10, completionTokens: 5, calls: 1 })
    return answer.text
  }

  samples(prompt: string, k: number, options?: SampleOptions): Promise<Samples> {
    return parallelSamples(k, (o) => this.text(prompt, o), options)
  }
}
