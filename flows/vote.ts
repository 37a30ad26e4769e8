import { z } from 'zod'
import { any, defineFlow, quorum } from '../src/engine/index.ts'
import { majority, normalizeAnswer } from '../src/llm/index.ts'

/** The answer as shown: first line, without the demo model's marker (the reply says demo anyway). */
const shown = (answer: string): string => (answer.trim().split('\n')[0] ?? '').replace(/^_\(demo\)_\s*/, '')

export default defineFlow({
  name: 'vote',
  description: 'Asks the same question several times and answers with the majority and its agreement',
  input: z.object({
    question: z.string().trim().min(1).max(1_000).describe('The question to put to the vote'),
    voters: z.number().int().min(1).max(9).default(5).describe('How many times to ask'),
  }),
  example: { question: 'Is a hot dog a sandwich? Answer yes or no.' },
  meta: { noun: 'answers', firstLabel: 'First answer' },
  build(f, { question, voters }) {
    const system =
      'Answer the question with the answer only: a word, a number or a short phrase. No explanation.'
    const answers = Array.from({ length: voters }, (_, i) =>
      f.start(`voter-${i + 1}`, ({ llm, signal }) =>
        llm.text(question, { system, temperature: 0.8, signal }),
      ),
    )
    const first = f.listen(any(answers), 'first', ({ value }) => `*${shown(value)}* (waiting for the others)`)
    // Exact early stop: once a strict majority agrees, the rest cannot change the winner, so cancel them.
    const needed = Math.floor(voters / 2) + 1
    const final = f.listen(
      quorum(needed, answers, { agree: (a) => normalizeAnswer(a), cancelRest: true }),
      'tally',
      ({ values, failures, pending, reached }) => {
        const tally = majority(values.map((v) => v.value))
        const lines = [`*${shown(tally.answer)}*: ${tally.count} of ${voters} agree`]
        if (reached && pending > 0)
          lines.push(
            `_Majority reached early; ${pending} more ${pending === 1 ? 'answer was' : 'answers were'} not needed._`,
          )
        if (!reached && voters > 1) lines.push('_No strict majority; this is the most common answer._')
        if (failures.length > 0) lines.push(`_${failures.length} of ${voters} voters failed._`)
        const others = tally.tally.filter((t) => t.answer !== tally.answer)
        if (others.length > 0)
          lines.push(`Other answers: ${others.map((t) => `${shown(t.answer)} (${t.count})`).join(', ')}`)
        return lines.join('\n')
      },
    )
    return { first, final }
  },
})
