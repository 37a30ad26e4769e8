/**
 * A flow file's run survives `kill -9`: /review (flows/review.yaml) on Slack in a real child process
 * with its SQLite journal; the reviewers that answered before the kill are not asked again.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { FAST_TIER, startFakeSlack } from '../fakes/slack.ts'
import { type ChorusProcess, killAll, scratchDir, socketModeEnv, startChorus } from '../support/chorus.ts'
import {
  channelReplies,
  expectOneFirstAndOneFinal,
  reviewerCounts,
  sleep,
  slowReviewers,
  statusOf,
} from './helpers.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** The text of a reply's section blocks, as the user reads them. */
const sectionsOf = (blocks: unknown[]): string[] =>
  (blocks as Array<{ type: string; text?: { text?: string } }>)
    .filter((b) => b.type === 'section')
    .map((b) => b.text?.text ?? '')

describe('a file flow resumes after kill -9 (Slack, real child processes, SQLite journal)', () => {
  it('/review: two reviewers answered, two in flight, kill -9; after a restart one final, the first unchanged, the answered two not asked again', async () => {
    const model = slowReviewers(['clarity', 'tone'])
    const slack = await startFakeSlack({ tier3: FAST_TIER })
    const openai = await startFakeOpenAI({ handler: model.handler })
    const scratch = scratchDir()
    const procs: ChorusProcess[] = []
    cleanup.push(
      () => slack.close(),
      () => openai.close(),
      () => scratch.remove(),
      () => killAll(procs),
    )
    const env = {
      ...socketModeEnv(slack, openai),
      CHORUS_MODEL: 'fake',
      CHORUS_DATA_DIR: `${scratch.dir}/data`,
    }
    const start = async () => {
      const proc = await startChorus(env, scratch.dir)
      procs.push(proc)
      return proc
    }
    const chorus = await start()
    const draft = 'We will ship the new dashboard next week to all customers, guaranteed.'
    await slack.send('slash_commands', slack.slashPayload('/review', draft))

    // Clarity and tone answered (clarity first); correctness and risk hang at the model.
    await expect
      .poll(() => statusOf(channelReplies(slack)[0]?.text ?? ''), { timeout: 10_000 })
      .toBe('first result')
    await expect.poll(() => openai.requests.filter((r) => r.answered).length, { timeout: 5_000 }).toBe(2)
    expect(openai.requests).toHaveLength(4)
    await sleep(300)
    const [reply] = channelReplies(slack)
    const firstShown = sectionsOf(reply?.blocks ?? []).find((s) => s.includes('clarity note'))
    expect(firstShown).toBe('_Clarity_\n• clarity note')
    chorus.kill('SIGKILL')
    expect((await chorus.exited).signal).toBe('SIGKILL')
    expect(channelReplies(slack).map((m) => statusOf(m.text))).toEqual(['first result'])

    model.release()
    const again = await start()
    expect(again.logs.find((l) => l.msg === 'journal.resumed')?.resumed).toBe(1)
    await expect.poll(() => statusOf(channelReplies(slack)[0]?.text ?? ''), { timeout: 15_000 }).toBe('done')
    await sleep(300)

    // One reply, one final, the first result the same in every version that showed it.
    const replies = channelReplies(slack)
    expect(replies).toHaveLength(1)
    const message = replies[0] as (typeof replies)[number]
    expectOneFirstAndOneFinal(message)
    const firsts = message.history
      .filter((h) => statusOf(h.text) === 'first result')
      .map((h) => sectionsOf(h.blocks).find((s) => s.includes('• ')))
    expect(new Set(firsts)).toEqual(new Set([firstShown]))
    expect(sectionsOf(message.blocks)).toContain(
      '_Clarity_\n• clarity note\n\n_Tone_\n• tone note\n\n_Correctness_\n• correctness note\n\n_Risk_\n• risk note',
    )
    expect(JSON.stringify(message.blocks)).toContain('4/4 reviews')

    // Clarity and tone were asked once; correctness and risk once before the kill and once after.
    expect(reviewerCounts(openai.requests)).toEqual({ clarity: 1, tone: 1, correctness: 2, risk: 2 })
  }, 30_000)
})
