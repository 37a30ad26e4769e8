import { z } from 'zod'
import type { LanguageModel } from '../../llm/index.ts'

/**
 * Where a refined run keeps what it refines, inside its journaled input: no flow option can be
 * named so (options are words), and the bot takes it out before the flow sees the input.
 */
export const REFINE_KEY = 'chorus:refine'
export const refineSchema = z.object({ previous: z.string(), request: z.string().trim().min(1).max(2_000) })
export type Refine = z.infer<typeof refineSchema>
/** The journal entry that keeps a completed run's final output, for Refine (the engine ignores the name on resume). */
export const FINAL_STEP = 'chorus:final'
/**
 * The model for a refined run: every prompt starts with the earlier result and what should change,
 * so any flow refines without knowing it is refining.
 */
export function refining(model: LanguageModel, refine: Refine): LanguageModel {
  const prefix = [
    'You are revising an earlier answer to this same task.',
    `Earlier answer:\n<<<\n${refine.previous}\n>>>`,
    `What the user wants changed: ${refine.request}`,
    'Apply that change in your answer to the task below.',
    '',
    '',
  ].join('\n')
  return {
    id: model.id,
    demo: model.demo,
    text: (prompt, options) => model.text(prefix + prompt, options),
    samples: (prompt, k, options) => model.samples(prefix + prompt, k, options),
  }
}
