import { z } from 'zod'
import { voteText } from '../src/bot/index.ts'
import { any, defineFlow } from '../src/engine/index.ts'
import {
  answerKind,
  extractAnswer,
  INVALID,
  leaderDecided,
  majority,
  normalizeAnswer,
  type Pick,
  pickMostConsistent,
  SampleFeed,
} from '../src/llm/index.ts'

/** USC reads at most this many responses (notes/llm-aggregation.md §2.2: gains stop near 8). */
const JUDGE_MAX = 8

export default defineFlow({
  name: 'vote',
  description: 'Asks the same question several times and answers with the majority and its agreement',
  input: z.object({
    question: z.string().trim().min(1).max(1_000).describe('The question to put to the vote'),
    voters: z.number().int().min(1).max(9).default(5).describe('How many times to ask'),
  }),
  example: { question: 'Is a hot dog a sandwich? Answer yes or no.' },
  meta: { noun: 'answers', firstLabel: 'First answer', judgeStep: 'tally' },
  build(f, { question, voters }) {
    const system =
      'Answer the question with the answer only: a word, a number or a short phrase. No explanation.'
    // One sampling for the whole vote: a single request with n = voters where the server honours n.
    // voter-i stands for the i-th answer to arrive, so the first is shown at once and progress counts
    // real answers; voters the early stop made unnecessary are cancelled, not failed.
    const feed = new SampleFeed(voters, (llm, signal, arrived) => {
      const counts = new Map<string, number>()
      let seen = 0
      return llm.samples(question, voters, {
        system,
        temperature: 0.8,
        signal,
        onSample: (text) => {
          arrived(text)
          seen++
          const key = normalizeAnswer(text)
          if (key !== INVALID) counts.set(key, (counts.get(key) ?? 0) + 1)
          // Exact early stop: the answers still to come cannot change the winner.
          return seen < voters && leaderDecided([...counts.values()], voters - seen)
        },
      })
    })
    const answers = Array.from({ length: voters }, (_, i) =>
      f.start(`voter-${i + 1}`, (ctx) => feed.answer(i, ctx)),
    )
    const first = f.listen(any(answers), 'first', ({ value }) => `*${shown(value)}* (waiting for the others)`)
    const final = f.listen(any(answers), 'tally', async (_, ctx) => {
      const samples = await feed.done(ctx)
      const tally = majority(samples.texts)
      const strict = tally.count * 2 > samples.texts.length + samples.notNeeded
      // Free text without a majority: exact matching cannot tell which answers agree; a judge reads them
      // (Universal Self-Consistency). Closed forms (numbers, yes/no, letters, dates) are counted as they are.
      let pick: Pick | undefined
      let judgeFailed = false
      if (!strict && tally.tally.length > 1 && answerKind(tally.key) === 'text') {
        const candidates = samples.texts.filter((t) => normalizeAnswer(t) !== INVALID).slice(0, JUDGE_MAX)
        try {
          pick = await pickMostConsistent(ctx.llm, question, candidates.map(extractAnswer), {
            signal: ctx.signal,
          })
        } catch (error) {
          if (ctx.signal.aborted) throw error
          judgeFailed = true
        }
      }
      return voteText({
        tally,
        notNeeded: samples.notNeeded,
        failed: samples.failed,
        strict,
        judgeFailed,
        ...(pick === undefined ? {} : { pick }),
      })
    })
    return { first, final }
  },
})

/** The answer as shown: the extracted answer, or a placeholder for an unreadable one. */
function shown(reply: string): string {
  return normalizeAnswer(reply) === INVALID ? '(no readable answer)' : extractAnswer(reply)
}
