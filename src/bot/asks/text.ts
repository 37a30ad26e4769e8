/** The words of a question's message, the same on every platform (each adapter formats mentions). */
import type { QuestionView, WhoSpec } from './types.ts'

/** "Only @x can answer" → who may answer, with `mention` turning a user id into the platform's mention. */
export function whoText(who: WhoSpec, mention: (userId: string) => string): string {
  if (who.kind === 'anyone') return 'Anyone here can answer.'
  if (who.kind === 'requester') return `For ${mention(who.user)} to answer.`
  return `For ${who.users.map(mention).join(', ')} to answer.`
}

/** Said to someone who may not answer. */
export function notAllowedText(who: WhoSpec, mention: (userId: string) => string): string {
  if (who.kind === 'requester') return `Only ${mention(who.user)} can answer this.`
  if (who.kind === 'users') return `Only ${who.users.map(mention).join(', ')} can answer this.`
  return 'You cannot answer this.'
}

/** The rule of a vote: "Closes when 3 agree or 5 have voted", or undefined for a single answer. */
export function ruleText(view: Pick<QuestionView, 'collect'>): string | undefined {
  const { collect } = view
  if (collect === undefined) return undefined
  const parts = [
    collect.agree === undefined ? undefined : `${collect.agree} agree`,
    collect.answers === undefined ? undefined : `${collect.answers} have voted`,
  ].filter((p) => p !== undefined)
  return parts.length === 0
    ? 'Closes at the deadline; the leader wins.'
    : `Closes when ${parts.join(' or ')}, or at the deadline.`
}

/** The live tally, one line per choice: "`███░░` **Ship it** 3". Empty for forms and single answers. */
export function tallyLines(view: Pick<QuestionView, 'choices' | 'collect' | 'answered'>): string[] {
  if (view.collect === undefined || view.choices === undefined) return []
  const total = Math.max(1, view.answered)
  return view.choices.map((c) => {
    const filled = Math.round((c.count / total) * 5)
    return `\`${'█'.repeat(filled)}${'░'.repeat(5 - filled)}\` **${c.label}** ${c.count}`
  })
}

/** "closes in 9 min" / "closes in 2 h" / "closes in 3 days", from `now`. */
export function closesText(deadlineAt: number, now: number = Date.now()): string {
  const ms = Math.max(0, deadlineAt - now)
  if (ms < 90_000) return `closes in ${Math.max(1, Math.round(ms / 1000))} s`
  if (ms < 90 * 60_000) return `closes in ${Math.round(ms / 60_000)} min`
  if (ms < 36 * 3_600_000) return `closes in ${Math.round(ms / 3_600_000)} h`
  return `closes in ${Math.round(ms / 86_400_000)} days`
}
