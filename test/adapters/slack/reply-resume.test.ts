/**
 * A reply on a slash command's response_url outlives the process: Chorus (a real child process on
 * its SQLite journal, its default budgets) is killed mid-run, the response_url expires meanwhile,
 * and the run resumed by the next start finishes the same message through the bot token.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type Handler, startFakeOpenAI } from '../../fakes/openai.ts'
import { APP_TOKEN, BOT_TOKEN, type Message, startFakeSlack } from '../../fakes/slack.ts'
import { type ChorusProcess, killAll, scratchDir, startChorus } from '../../support/chorus.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

describe('a reply on its response_url, resumed after a restart', () => {
  it('a run resumed after its response_url expired finishes the same message through chat.update', async () => {
    // Every angle hangs until the restart (as slow model calls do while Chorus is killed).
    let restarted = false
    const handler: Handler = async (body) => {
      const prompt = body.messages.at(-1)?.content ?? ''
      const angle = /Angle: (.+?)\./.exec(prompt)?.[1]
      if (angle === undefined) return { text: '1. **Merged idea** ranked first' }
      return { text: `- **${angle} idea**`, latencyMs: restarted ? 20 : 120_000 }
    }
    // Slack's 30 minutes, shortened to what a test can wait out.
    const slack = await startFakeSlack({ responseUrlMs: 1_500 })
    const openai = await startFakeOpenAI({ handler })
    const scratch = scratchDir()
    const procs: ChorusProcess[] = []
    cleanup.push(
      () => slack.close(),
      () => openai.close(),
      () => scratch.remove(),
      () => killAll(procs),
    )
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      OPENAI_API_KEY: 'sk-test',
      OPENAI_BASE_URL: openai.url,
      CHORUS_MODEL: 'fake',
    }
    const first = await startChorus(env, scratch.dir)
    procs.push(first)
    await slack.connected()
    // The first command's reply is on the bot token; the second finds the workspace's chat.update
    // budget taken and answers through its own response_url.
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'on the bot token --angles 2'))
    await expect.poll(() => slack.posted().length, { timeout: 5_000 }).toBe(1)
    const payload = slack.slashPayload('/brainstorm', 'resumed one --angles 2', { channel_id: 'C2' })
    await slack.send('slash_commands', payload)
    await expect.poll(() => slack.posted().length, { timeout: 5_000 }).toBe(2)
    const reply = slack.posted().find((m) => m.text.startsWith('Brainstorm: resumed one')) as Message
    expect(reply.responseUrl).toBeDefined()
    expect(reply.text).toContain('working')

    first.kill('SIGKILL')
    await first.exited
    await new Promise((r) => setTimeout(r, 1_600))
    restarted = true
    procs.push(await startChorus(env, scratch.dir))

    const message = () => slack.messages.get(reply.ts) as Message
    await expect.poll(() => message().text, { timeout: 15_000 }).toContain('done')
    expect(JSON.stringify(message().blocks)).toContain('*Merged idea* ranked first')
    const updates = slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === reply.ts)
    expect(updates.length).toBeGreaterThan(0)
    expect(slack.calls.some((c) => c.method === 'conversations.history' && c.args.channel === 'C2')).toBe(
      true,
    )
    // One message for the command, and the expired URL took nothing after the restart.
    expect(slack.posted().filter((m) => m.text.startsWith('Brainstorm: resumed one'))).toHaveLength(1)
    const after = slack.responses.filter((r) => r.id === reply.responseUrl).slice(1)
    expect(after.every((r) => r.status === 410)).toBe(true)
  })
})
