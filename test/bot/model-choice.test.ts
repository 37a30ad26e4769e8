import { describe, expect, it } from 'vitest'
import { ModelChoice } from '../../src/bot/runs/model-choice.ts'
import type { LanguageModel } from '../../src/llm/index.ts'

/** A model whose `withModel` makes one named after its argument. */
function named(id: string): LanguageModel {
  return {
    id,
    demo: false,
    text: async () => id,
    samples: async () => ({ texts: [], failed: 0, notNeeded: 0 }),
    withModel: (name) => named(name),
  }
}

describe('ModelChoice', () => {
  const choice = new ModelChoice(named('default'), { standup: 'flow-model', 'standup.judge': 'judge-model' })

  it("a step's own model (a flow file's model:) comes first, then the judge's, the flow's, the default", () => {
    const flow = { name: 'standup', meta: { judgeStep: 'summary', models: { wins: 'gpt-4o' } } }
    expect(choice.of(flow, 'wins').id).toBe('gpt-4o')
    expect(choice.of(flow, 'summary').id).toBe('judge-model')
    expect(choice.of(flow, 'next').id).toBe('flow-model')
    expect(choice.of({ name: 'brand', meta: { models: { slogan: 'gpt-4o' } } }, 'tagline').id).toBe('default')
    expect(choice.of({ name: 'brand' }, 'slogan').id).toBe('default')
  })

  it('makes one instance per model name', () => {
    const flow = { name: 'x', meta: { models: { a: 'm', b: 'm' } } }
    expect(choice.of(flow, 'a')).toBe(choice.of(flow, 'b'))
  })
})
