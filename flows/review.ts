import { z } from 'zod'
import { all, any, defineFlow } from '../src/engine/index.ts'

const REVIEWERS = [
  {
    id: 'clarity',
    name: 'Clarity',
    brief: 'Is it easy to follow? Point out confusing sentences and suggest plainer ones.',
  },
  {
    id: 'tone',
    name: 'Tone',
    brief: 'Does the tone suit the audience? Flag anything curt, vague or over-hyped.',
  },
  {
    id: 'correctness',
    name: 'Correctness',
    brief: 'Find factual, logical, grammatical or numeric mistakes.',
  },
  {
    id: 'risk',
    name: 'Risk',
    brief: 'What could go wrong if this is sent as is: legal, security, reputation, promises?',
  },
] as const

export default defineFlow({
  name: 'review',
  description: 'Clarity, tone, correctness and risk reviews of a text, in parallel, in one report',
  input: z.object({ text: z.string().trim().min(1).max(3_500).describe('The text to review') }),
  example: { text: 'We will ship the new dashboard next week to all customers, guaranteed.' },
  meta: { noun: 'reviews', firstLabel: 'First review' },
  build(f, { text }) {
    const reviews = REVIEWERS.map((r) =>
      f.start(r.id, ({ llm, signal }) =>
        llm.text(`${r.brief}\n\nText to review:\n"""\n${text}\n"""`, {
          system: `You are the ${r.name.toLowerCase()} reviewer. At most 4 short bullet points. No preamble.`,
          temperature: 0.2,
          signal,
        }),
      ),
    )
    const first = f.listen(any(reviews), 'first', ({ step, value }) => `*${nameOf(step)}*\n${value}`)
    const final = f.listen(all(reviews, { partial: true }), 'report', ({ results }) =>
      results
        .map(
          (r) => `*${nameOf(r.step)}*\n${r.ok ? r.value.trim() : '_This review failed; try again for it._'}`,
        )
        .join('\n\n'),
    )
    return { first, final }
  },
})

function nameOf(step: string): string {
  return REVIEWERS.find((r) => r.id === step)?.name ?? step
}
