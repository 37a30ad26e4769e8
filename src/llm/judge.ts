import type { LanguageModel } from './types.ts'

/**
 * Universal Self-Consistency (Chen et al. 2023): one judge call picks the candidate most consistent
 * with the others, for free-form answers that cannot be voted on by exact match. A judge reply
 * without a usable number falls back to the first candidate, and says so.
 */
export async function pickMostConsistent(
  llm: LanguageModel,
  question: string,
  candidates: string[],
  options: { signal?: AbortSignal } = {},
): Promise<{ index: number; answer: string; judged: boolean }> {
  if (candidates.length === 0) throw new RangeError('pickMostConsistent needs at least one candidate')
  if (candidates.length === 1) return { index: 0, answer: candidates[0] as string, judged: false }
  const listed = candidates.map((c, i) => `Response ${i + 1}:\n${c.trim()}`).join('\n\n')
  const reply = await llm.text(
    `Question: ${question}\n\n${listed}\n\nWhich response is the most consistent with the others? ` +
      `Answer with its number only (1 to ${candidates.length}).`,
    {
      system: 'You compare answers and pick the majority view. Reply with a number only.',
      temperature: 0,
      ...options,
    },
  )
  const n = Number(/\d+/.exec(reply)?.[0])
  if (!Number.isInteger(n) || n < 1 || n > candidates.length)
    return { index: 0, answer: candidates[0] as string, judged: false }
  return { index: n - 1, answer: candidates[n - 1] as string, judged: true }
}
