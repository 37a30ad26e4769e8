import { z } from 'zod'
import { all, any, defineFlow } from '../src/engine/index.ts'
import { dedupeIdeas } from '../src/llm/index.ts'

/** Angles that change the framing of the problem, not just its wording (notes/llm-aggregation.md §5). */
const ANGLES = [
  {
    id: 'user-pain',
    name: 'User pain',
    brief: 'Start from the most painful problem the people involved have today.',
  },
  {
    id: 'contrarian',
    name: 'Contrarian',
    brief: 'Take the opposite of the obvious approach and make it work.',
  },
  {
    id: 'constraint',
    name: 'Tight constraint',
    brief: 'Assume almost no budget and one week: what still works?',
  },
  {
    id: 'analogy',
    name: 'Analogy',
    brief: 'Borrow an idea that already works in a completely different industry.',
  },
  {
    id: 'moonshot',
    name: 'Moonshot',
    brief: 'Aim for a result ten times better than today, ignoring feasibility at first.',
  },
  { id: 'low-tech', name: 'Low tech', brief: 'Solve it with no new software at all.' },
  {
    id: 'customer',
    name: 'Customer voice',
    brief: 'Write ideas the way a delighted customer would describe them.',
  },
  { id: 'remix', name: 'Remix', brief: 'Combine two existing, unrelated things into something new.' },
] as const

const SYSTEM =
  'You are one member of a brainstorming panel. Reply with 3 to 5 distinct ideas as a markdown list, ' +
  'one line each: a short bold name, then one sentence. No preamble.'

export default defineFlow({
  name: 'brainstorm',
  description: 'Ideas from several angles in parallel: the first at once, then a merged, ranked list',
  input: z.object({
    topic: z.string().trim().min(1).max(500).describe('What to brainstorm about'),
    angles: z
      .number()
      .int()
      .min(1)
      .max(ANGLES.length)
      .default(5)
      .describe('How many angles to explore at once'),
  }),
  example: { topic: 'a name for our analytics product' },
  // voteOn: the final reply offers Vote on these (its ranked ideas as a /decide vote).
  meta: { noun: 'ideas', firstLabel: 'First idea', judgeStep: 'synthesis', voteOn: true },
  build(f, { topic, angles }) {
    const chosen = ANGLES.slice(0, angles)
    const ideas = chosen.map((angle) =>
      f.start(`angle-${angle.id}`, ({ llm, signal }) =>
        llm.text(`Topic: ${topic}\nAngle: ${angle.name}. ${angle.brief}`, {
          system: SYSTEM,
          temperature: 0.9,
          signal,
        }),
      ),
    )
    const first = f.listen(any(ideas), 'first', ({ step, value }) => {
      const angle = chosen.find((a) => `angle-${a.id}` === step)
      return `_${angle?.name ?? step}_\n${value}`
    })
    const final = f.listen(
      all(ideas, { partial: true }),
      'synthesis',
      async ({ values, failures }, { llm, signal }) => {
        if (values.length === 0) throw new Error('every angle failed')
        const merged = dedupeIdeas(values)
        const list = merged
          .map((idea) => `- ${idea.text}${idea.count > 1 ? ` (${idea.count} angles)` : ''}`)
          .join('\n')
        const ranked = await llm.text(
          `Topic: ${topic}\nIdeas from ${values.length} panel members, already de-duplicated:\n${list}\n\n` +
            'Merge any ideas that are still the same idea, then rank the best 5 to 8. ' +
            'Markdown list: bold name, one sentence, and why it ranks there.',
          { system: 'You are the panel chair. Be concise.', temperature: 0.3, signal },
        )
        const missing =
          failures.length > 0
            ? `\n\n_${values.length} of ${values.length + failures.length} angles answered._`
            : ''
        return `${ranked}${missing}`
      },
    )
    return { first, final }
  },
})
