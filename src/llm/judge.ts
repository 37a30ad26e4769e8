import { z } from 'zod'
import type { LanguageModel } from './types.ts'

/** What the judge chose: `judged` is false when no judgement was made (one candidate, or an unreadable reply). */
export interface Pick {
  index: number
  answer: string
  judged: boolean
}

const Verdict = z.object({ response: z.number().int() })

/**
 * Universal Self-Consistency (Chen et al. 2023): one judge call picks the candidate most consistent
 * with the others, for free-form answers that cannot be voted on by exact match. The judge answers in
 * JSON (structured output where the server supports it); a reply that cannot be read strictly falls
 * back to the first candidate with `judged: false`, never to a guess.
 */
export async function pickMostConsistent(
  llm: LanguageModel,
  question: string,
  candidates: string[],
  options: { signal?: AbortSignal } = {},
): Promise<Pick> {
  if (candidates.length === 0) throw new RangeError('pickMostConsistent needs at least one candidate')
  const unjudged = { index: 0, answer: candidates[0] as string, judged: false }
  if (candidates.length === 1) return unjudged
  const listed = candidates.map((c, i) => `Response ${i + 1}:\n${c.trim()}`).join('\n\n')
  const reply = await llm.text(
    `I have generated the following responses to the question: ${question}\n\n${listed}\n\n` +
      'Evaluate these responses. Select the most consistent response based on majority consensus. ' +
      `Reply with JSON only: {"response": N}, where N is the number of that response (1 to ${candidates.length}).`,
    {
      system: 'You compare answers and pick the one most consistent with the others. You reply in JSON.',
      temperature: 0,
      json: {
        name: 'most_consistent',
        schema: {
          type: 'object',
          properties: { response: { type: 'integer', minimum: 1, maximum: candidates.length } },
          required: ['response'],
          additionalProperties: false,
        },
      },
      ...options,
    },
  )
  const n = readVerdict(reply)
  if (n === undefined || n < 1 || n > candidates.length) return unjudged
  return { index: n - 1, answer: candidates[n - 1] as string, judged: true }
}

/**
 * The response number in a judge's reply, read strictly: a JSON object `{"response": N}` (alone, or in
 * a code fence or prose, as long as every such object names the same N), else the USC sentence
 * ("The most consistent response is Response N", "Response N is the most consistent"), else a reply
 * that is only a number. Anything else is unreadable: the first number in prose is often a count
 * ("Of the 5 responses, …").
 */
export function readVerdict(reply: string): number | undefined {
  const picks = new Set<number>()
  for (const m of reply.matchAll(/\{[^{}]*\}/g)) {
    try {
      const parsed = Verdict.safeParse(JSON.parse(m[0]))
      if (parsed.success) picks.add(parsed.data.response)
    } catch {
      // Not JSON: prose in braces.
    }
  }
  if (picks.size === 1) return [...picks][0]
  if (picks.size > 1) return undefined
  const sentences = new Set(
    [
      ...reply.matchAll(/most consistent response is[\s*:]*(?:response\s*)?#?(\d+)\b/gi),
      ...reply.matchAll(/\bresponse\s*#?(\d+)[\s*]+is the most consistent\b/gi),
    ].map((m) => Number(m[1])),
  )
  if (sentences.size === 1) return [...sentences][0]
  if (sentences.size > 1) return undefined
  const bare = /^\s*(?:response\s*)?#?(\d+)\s*\.?\s*$/i.exec(reply.replace(/^\s*_\(demo\)_\s*/, ''))
  return bare === null ? undefined : Number(bare[1])
}
