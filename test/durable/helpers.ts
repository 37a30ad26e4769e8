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

/** The option each `/decide` proposer gives, by its angle: three distinct options to vote on. */
export const DECIDE_OPTIONS: Record<string, string> = {
  Pragmatic: 'Postgres',
  Ambitious: 'CockroachDB',
  Cautious: 'SQLite',
}

/** A model for `/decide`: each angle proposes its own option, the rationale answers at once. */
export const decideModel: Handler = (body) => {
  const prompt = body.messages.at(-1)?.content ?? ''
  const angle = /Angle: (\w+)\./.exec(prompt)?.[1]
  if (angle !== undefined)
    return {
      text: `- **${DECIDE_OPTIONS[angle] ?? angle}** — what the ${angle} view favours.`,
      latencyMs: 20,
    }
  if (prompt.startsWith('Decision:')) return { text: 'It fits the team.\n\n- Set it up\n- Migrate' }
  return { text: 'unexpected prompt' }
}

/** How often the fake model was asked each `/decide` prompt: the three angles and the rationale. */
export function decidePrompts(requests: RecordedRequest[]): { angles: number[]; rationale: number } {
  const angles = Object.keys(DECIDE_OPTIONS).map(
    (a) => requests.filter((r) => r.prompt.includes(`Angle: ${a}.`)).length,
  )
  return { angles, rationale: requests.filter((r) => r.prompt.startsWith('Decision:')).length }
}

/** A Slack question message (a vote), as first posted. */
export const isQuestion = (m: Message): boolean => m.history[0]?.text.startsWith('Question:') === true

/** The action id of the vote button labelled `label` on (a version of) a Slack question message. */
export function answerButton(message: { blocks: unknown[] }, label: string): string {
  for (const block of message.blocks as Array<{ elements?: Array<Record<string, unknown>> }>)
    for (const e of block.elements ?? [])
      if ((e.text as { text?: string } | undefined)?.text === label) return String(e.action_id)
  throw new Error(`no button "${label}" on the message`)
}

/** Whether a Slack message still has buttons or a select (an open question). */
export const hasControls = (m: Message): boolean =>
  m.blocks.some((b) => (b as { type: string }).type === 'actions')

/** The four /review reviewers (flows/review.yaml), as their system prompts name them. */
export const REVIEWERS = ['clarity', 'tone', 'correctness', 'risk'] as const

/** Which /review reviewer a request is for, from its system prompt ("You are the tone reviewer."). */
export const reviewerOf = (system: string | undefined): string | undefined =>
  /You are the (\w+) reviewer/.exec(system ?? '')?.[1]

/**
 * A model for restart tests of /review: the `fast` reviewers answer at once (the first of them
 * sooner), the others hang until `release()` (as slow calls do while Chorus is killed), then answer at
 * once. Each reviewer answers `- <reviewer> note`.
 */
export function slowReviewers(fast: string[] = ['clarity', 'tone']) {
  let released = false
  const handler: Handler = (body) => {
    const who = reviewerOf(body.messages.find((m) => m.role === 'system')?.content) ?? 'unknown'
    const text = `- ${who} note`
    if (released) return { text, latencyMs: 20 }
    if (fast.includes(who)) return { text, latencyMs: who === fast[0] ? 20 : 200 }
    return { text, latencyMs: 120_000 }
  }
  return {
    handler,
    release: () => {
      released = true
    },
  }
}

/** How many requests the fake model received for each /review reviewer. */
export function reviewerCounts(requests: RecordedRequest[]): Record<string, number> {
  const counts: Record<string, number> = Object.fromEntries(REVIEWERS.map((r) => [r, 0]))
  for (const r of requests) {
    const who = reviewerOf(r.system)
    if (who !== undefined) counts[who] = (counts[who] ?? 0) + 1
  }
  return counts
}

/**
 * What a Slack channel shows, however each reply was delivered: the messages posted (by
 * chat.postMessage, or a response_url's in-channel post, with every later version), then in-channel
 * response_url posts the fake kept no message of, each as a message of its own.
 */
export function channelReplies(slack: FakeSlack): Message[] {
  const loose = slack.responses
    .filter((r) => r.status === 200 && r.ts === undefined && r.body.response_type === 'in_channel')
    .map((r): Message => {
      const text = String(r.body.text ?? '')
      const blocks = (r.body.blocks as unknown[] | undefined) ?? []
      const history = [{ text, blocks, at: r.at }]
      return { channel: '', ts: `response ${r.id}`, threadTs: undefined, text, blocks, history }
    })
  return [...slack.posted(), ...loose]
}
