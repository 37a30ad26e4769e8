import { z } from 'zod'
import { all, any, defineFlow, durationMs, NoAnswerError } from '../src/engine/index.ts'
import { dedupeIdeas } from '../src/llm/index.ts'

/** Each proposer takes a different angle on the decision (sectioning), so the options differ. */
const ANGLES = [
  { id: 'pragmatic', name: 'Pragmatic', brief: 'What works soonest with what the team already has?' },
  { id: 'ambitious', name: 'Ambitious', brief: 'What would the team be proudest of in a year?' },
  { id: 'cautious', name: 'Cautious', brief: 'What keeps the risk and the cost lowest?' },
] as const

const SYSTEM =
  'You are one member of a panel proposing options for a team decision. Reply with 1 or 2 distinct ' +
  'options as a markdown list, one line each: a short bold name (at most 5 words), then one sentence. No preamble.'

const LONGEST_VOTE_MS = 7 * 24 * 60 * 60_000

/** "A | B | C" or one per line: the options a team already has (Vote on these passes them). */
function choicesOf(text: string | undefined): string[] {
  if (text === undefined) return []
  return text
    .split(/\n|\|/)
    .map((c) => c.replace(/^\s*(?:[-*•]|\d+[.)])\s*/, '').trim())
    .filter((c) => c.length > 0)
}

/** An option line as a button label and the sentence shown above the buttons. */
function optionOf(line: string): { label: string; text: string } {
  const bold = /\*\*(.+?)\*\*[\s:—–-]*(.*)/.exec(line)
  const label = (bold?.[1] ?? line.split(/[:—–]/)[0] ?? line).replace(/[*_`]/g, '').trim()
  return { label: label.length > 60 ? `${label.slice(0, 59)}…` : label, text: line.trim() }
}

export default defineFlow({
  name: 'decide',
  description: 'Models propose options in parallel, then the channel votes: the winner, its tally and why',
  input: z.object({
    question: z.string().trim().min(1).max(500).describe('What the team has to decide'),
    options: z.number().int().min(2).max(5).default(3).describe('How many options to vote on'),
    quorum: z.number().int().min(1).max(50).default(3).describe('The vote closes when this many agree'),
    for: z
      .string()
      .trim()
      .default('10m')
      .refine((d) => {
        const ms = durationMs(d)
        return ms !== undefined && ms >= 10_000 && ms <= LONGEST_VOTE_MS
      }, 'a duration from 10s to 7d, like 10m, 2h or 1d')
      .describe('How long the vote stays open, like 10m, 2h or 1d'),
    choices: z
      .string()
      .trim()
      .max(2_000)
      .optional()
      .describe('Options to vote on as they are, one per line or separated by |; no proposals'),
  }),
  example: { question: 'Which database should we use for the new service?' },
  meta: { noun: 'proposals', firstLabel: 'First proposal', judgeStep: 'decision' },
  build(f, { question, options, quorum, for: openFor, choices }) {
    const given = choicesOf(choices).slice(0, 25)
    const proposers =
      given.length >= 2
        ? [f.start('given', () => given.map((c) => `- ${c}`).join('\n'))]
        : ANGLES.map((angle) =>
            f.start(`propose-${angle.id}`, ({ llm, signal }) =>
              llm.text(`Topic: ${question}\nAngle: ${angle.name}. ${angle.brief}`, {
                system: SYSTEM,
                temperature: 0.8,
                signal,
              }),
            ),
          )
    const first = f.listen(any(proposers), 'first', ({ value }) => value)
    const vote = f.listen(all(proposers, { partial: true }), 'vote', async ({ values }, { ask }) => {
      // The same option from two proposers, worded apart, is one option: merged by its name too.
      const named = new Map<string, { label: string; text: string }>()
      for (const idea of dedupeIdeas(values)) {
        const option = optionOf(idea.text)
        const key = option.label.toLowerCase()
        if (!named.has(key)) named.set(key, option)
      }
      const offered = [...named.values()].slice(0, given.length >= 2 ? given.length : options)
      if (offered.length < 2) throw new Error('the proposers did not come up with two distinct options')
      const prompt = [`*Vote:* ${question}`, ...offered.map((o, i) => `${i + 1}. ${o.text}`)].join('\n')
      try {
        const answer = await ask({
          prompt,
          choices: offered.map((o, i) => ({ value: `option-${i + 1}`, label: o.label })),
          who: 'anyone',
          collect: { agree: quorum },
          timeout: openFor,
        })
        const winner = offered[Number(answer.value.slice('option-'.length)) - 1]
        return { decided: true as const, winner, answer, offered }
      } catch (error) {
        if (!(error instanceof NoAnswerError)) throw error
        const top = error.tally[0]?.count ?? 0
        const tied = error.tally.filter((t) => top > 0 && t.count === top).map((t) => t.label)
        const reason =
          error.answers.length === 0
            ? `no one voted within ${openFor}`
            : tied.length > 1
              ? `the vote closed tied between ${tied.join(' and ')}`
              : 'the vote closed without a winner'
        return { decided: false as const, reason, tally: error.tally }
      }
    })
    const final = f.listen(vote, 'decision', async (result, { llm, signal }) => {
      if (!result.decided) {
        const lines = result.tally.filter((t) => t.count > 0).map((t) => `- ${t.label}: ${t.count}`)
        return [`**No decision:** ${result.reason}.`, ...lines].join('\n')
      }
      const { winner, answer, offered } = result
      const votes = answer.answers.length
      const tally = answer.tally.map((t) => `- ${t.label}: ${t.count}`).join('\n')
      const why = await llm.text(
        `Decision: ${question}\nThe team voted for: ${winner?.text}\nOther options: ${offered
          .filter((o) => o !== winner)
          .map((o) => o.label)
          .join(
            ', ',
          )}\n\nWrite a short rationale (2 sentences) for this choice, then 2 or 3 concrete next steps as a list.`,
        {
          system: 'You are the decision chair summing up a team vote. Be concise and concrete.',
          temperature: 0.3,
          signal,
        },
      )
      const how =
        answer.outcome === 'agreed'
          ? `${answer.tally[0]?.count} of ${votes} agreed`
          : `the leader when the vote closed, ${answer.tally[0]?.count} of ${votes} ${votes === 1 ? 'vote' : 'votes'}`
      return `**Decided: ${winner?.label}** (${how})\n\n${tally}\n\n${why}`
    })
    return { first, final }
  },
})
