import type { Handler, RecordedRequest } from '../fakes/openai.ts'

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
export function gatedAngles(fast: string[] = ['User pain', 'Contrarian']) {
  let release!: () => void
  const gate = new Promise<void>((r) => {
    release = r
  })
  const handler: Handler = async (body) => {
    const prompt = body.messages.at(-1)?.content ?? ''
    const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
    if (angle === undefined) return { text: '1. **Merged idea** ranked first' }
    if (!fast.includes(angle)) await gate
    return { text: `- **${angle} idea**`, latencyMs: 20 }
  }
  return { handler, release: () => release() }
}
