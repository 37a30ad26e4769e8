import { expect } from 'vitest'
import type { Handler, RecordedRequest } from '../fakes/openai.ts'
import type { FakeSlack, Message } from '../fakes/slack.ts'

/**
 * A model for restart tests: two angles of every brainstorm answer at once, the other angles hang
 * until `release()` (as slow model calls do while Chorus is killed); after release, and for every
 * repeated prompt, they answer at once. The synthesis always answers at once.
 */
export function slowAngles(fast: string[] = ['User pain', 'Contrarian']) {
  let released = false
  const handler: Handler = (body) => {
    const prompt = body.messages.at(-1)?.content ?? ''
    const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
    if (angle === undefined) return { text: '1. **Merged idea** ranked first' }
    const text = `- **${angle} idea**`
    if (fast.includes(angle) || released) return { text, latencyMs: 20 }
    return { text, latencyMs: 120_000 }
  }
  return {
    handler,
    release: () => {
      released = true
    },
  }
}

/** Prompts the fake model answered, each with how many requests it received in all. */
export function promptCounts(requests: RecordedRequest[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const r of requests) counts.set(r.prompt, (counts.get(r.prompt) ?? 0) + 1)
  return counts
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * Like `slowAngles`, but the slow angles' requests wait for `release()` and then answer, so runs
 * held by processes that stay alive finish too.
 */
export function gatedAngles(
  fast: string[] = ['User pain', 'Contrarian'],
  options: { synthesisMs?: number } = {},
) {
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  const handler: Handler = async (body) => {
    const prompt = body.messages.at(-1)?.content ?? ''
    const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
    if (angle === undefined)
      return { text: '1. **Merged idea** ranked first', latencyMs: options.synthesisMs ?? 0 }
    if (!fast.includes(angle)) await gate
    return { text: `- **${angle} idea**`, latencyMs: 20 }
  }
  return { handler, release: () => release() }
}

/** A Slack reply's state, from its notification text. */
export const statusOf = (text: string) => /: (working|first result|done|failed|stopped)$/.exec(text)?.[1]
/** The sections under the title and its context lines: what the message says, progress aside. */
const body = (entry: { blocks: unknown[] }) =>
  JSON.stringify(
    (entry.blocks as Array<{ type: string; text?: { text: string } }>)
      .filter((b) => b.type === 'section')
      .slice(1)
      .map((b) => b.text?.text),
  )

/** One final, one first result that never changes, and never back to an earlier state. */
export function expectOneFirstAndOneFinal(message: Message): void {
  const statuses = message.history.map((h) => statusOf(h.text))
  expect(statuses.at(-1)).toBe('done')
  expect(statuses.filter((s) => s === 'done')).toHaveLength(1)
  const firsts = new Set(message.history.filter((h) => statusOf(h.text) === 'first result').map(body))
  expect(firsts.size).toBeLessThanOrEqual(1)
  // Never back to an earlier state once a later one was shown.
  const order = ['working', 'first result', 'done']
  const ranks = statuses.map((s) => order.indexOf(s ?? ''))
  expect(ranks).toEqual([...ranks].sort((a, b) => a - b))
}

/** A click on one of a reply's buttons, as Slack sends it over Socket Mode. */
export function click(
  slack: FakeSlack,
  message: Message,
  actionId: 'chorus_stop' | 'chorus_retry',
  who = 'grace',
) {
  // A message that never had this button (the abandoned one) is clicked through its Retry's run id.
  const value = buttonValue(
    message,
    actionId === 'chorus_stop' && !everHad(message, actionId) ? 'chorus_retry' : actionId,
  )
  return slack.send('interactive', slack.blockAction(message, { actionId, value }, { user: who }))
}

/** The run id behind a button of the message (or of its last version that had one). */
function buttonValue(message: Message, actionId: string): string {
  for (const entry of [...message.history].reverse()) {
    const found = JSON.stringify(entry.blocks).match(
      new RegExp(`"action_id":"${actionId}","value":"([^"]+)"`),
    )
    if (found?.[1] !== undefined) return found[1]
  }
  throw new Error(`no ${actionId} button on ${message.ts}`)
}

const everHad = (m: Message, actionId: string) =>
  m.history.some((h) => JSON.stringify(h.blocks).includes(`"action_id":"${actionId}"`))
export const hasButton = (m: Message, actionId: string) =>
  JSON.stringify(m.blocks).includes(`"action_id":"${actionId}"`)
