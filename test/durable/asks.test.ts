import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStore } from '../../src/store/index.ts'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { FAST_TIER, type FakeSlack, type Message, type SlackUser, startFakeSlack } from '../fakes/slack.ts'
import { type ChorusProcess, killAll, scratchDir, socketModeEnv, startChorus } from '../support/chorus.ts'
import {
  answerButton,
  decideModel,
  decidePrompts,
  hasControls,
  isQuestion,
  sleep,
  statusOf,
} from './helpers.ts'

const GRACE: SlackUser = { id: 'U2', name: 'grace' }
const CAROL: SlackUser = { id: 'U3', name: 'carol' }
const DAN: SlackUser = { id: 'U4', name: 'dan' }

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** The fake Slack and model, a scratch CHORUS_DATA_DIR, and `npm start` on them as often as a test asks. */
async function setup() {
  const slack = await startFakeSlack({ tier3: FAST_TIER })
  const openai = await startFakeOpenAI({ handler: decideModel })
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
  }
  const start = async () => {
    const proc = await startChorus(env, scratch.dir)
    procs.push(proc)
    await slack.connected()
    return proc
  }
  return { slack, openai, scratch, start }
}

/** Kills the process with -9 and waits until it is gone (and its Socket Mode link with it). */
async function kill9(slack: FakeSlack, proc: ChorusProcess): Promise<void> {
  proc.kill('SIGKILL')
  await proc.exited
  await expect.poll(() => slack.links.every((l) => l.closedAt !== undefined), { timeout: 5_000 }).toBe(true)
}

/** Sends `/decide`, waits for its vote and for the run to park; returns the reply, the vote and the run id. */
async function decideAndPark(slack: FakeSlack, chorus: ChorusProcess, text: string) {
  await slack.send('slash_commands', slack.slashPayload('/decide', text))
  await expect.poll(() => slack.posted().some(isQuestion), { timeout: 10_000 }).toBe(true)
  const parked = await chorus.waitForLog((l) => l.msg === 'run.parked', 10_000)
  const vote = slack.posted().find(isQuestion) as Message
  const reply = slack.posted().find((m) => !isQuestion(m)) as Message
  return { reply, vote, runId: parked.runId as string }
}

const blocksOf = (m: Message) => JSON.stringify(m.blocks)

describe('a /decide vote survives the process (real child processes, SQLite journal, Slack over Socket Mode)', () => {
  it('kill -9 while the vote is open: two clicks on the new process decide it once, the proposers are not asked again', async () => {
    const { slack, openai, scratch, start } = await setup()
    const first = await start()
    const { reply, vote, runId } = await decideAndPark(
      slack,
      first,
      'Which database for the new service? --quorum 2 --for 10m',
    )
    expect(blocksOf(vote)).toContain('Anyone here can answer.')
    expect(blocksOf(vote)).toContain('Closes when 2 agree, or at the deadline.')
    expect(hasControls(vote)).toBe(true)
    expect(statusOf(reply.text)).not.toBe('done')
    expect(blocksOf(reply)).toContain('Waiting for answers to go on')
    // Parked: in the journal only, with its deadline as the wake time.
    const journal = new SqliteStore(`${scratch.dir}/.chorus/chorus.db`)
    const record = await journal.get(runId)
    await journal.close()
    expect(record).toMatchObject({ status: 'running', parked: true })
    expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 0 })

    await kill9(slack, first)
    const second = await start()
    expect(second.logs.find((l) => l.msg === 'journal.parked')).toMatchObject({ runs: 1 })
    // A parked run is not resumed at start: it waits for a click or its deadline.
    expect(second.logs.find((l) => l.msg === 'journal.resumed')).toMatchObject({ resumed: 0 })
    await sleep(300)
    expect(second.logs.some((l) => l.msg === 'run.started' || l.msg === 'run.resumed')).toBe(false)

    const postgres = answerButton(vote, 'Postgres')
    const edits = vote.history.length
    const one = await slack.click(vote, postgres, GRACE)
    expect(one.ms).toBeLessThan(3_000)
    await expect.poll(() => vote.history.length, { timeout: 5_000 }).toBeGreaterThan(edits)
    await expect
      .poll(() => slack.notes(GRACE.id), { timeout: 5_000 })
      .toEqual(['Your vote for Postgres is counted; you can change it until the vote closes.'])
    expect(hasControls(vote)).toBe(true)
    const two = await slack.click(vote, postgres, CAROL)
    expect(two.ms).toBeLessThan(3_000)

    await expect.poll(() => statusOf(reply.text), { timeout: 15_000 }).toBe('done')
    // The vote's own message, edited in place: no buttons, who decided, the true tally.
    expect(hasControls(vote)).toBe(false)
    expect(blocksOf(vote)).toContain('Decided: *Postgres* (2 of 2 votes), by carol.')
    expect(slack.posted().filter(isQuestion)).toHaveLength(1)
    // One final, the decision; the reply was never posted again.
    expect(reply.history.filter((h) => statusOf(h.text) === 'done')).toHaveLength(1)
    expect(blocksOf(reply)).toContain('Decided: Postgres')
    expect(blocksOf(reply)).toContain('(2 of 2 agreed)')
    expect(slack.posted()).toHaveLength(2)
    expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 1 })
    const woken = second.logs.find((l) => l.msg === 'run.woken')
    expect(woken?.runId).toBe(runId)
    // A click from a client that still showed the buttons is told who decided, and changes nothing.
    const open = vote.history[0] as { blocks: unknown[] }
    const late = await slack.click(vote, answerButton(open, 'SQLite'), DAN, { seen: open.blocks })
    expect(late.ms).toBeLessThan(3_000)
    await expect.poll(() => slack.notes(DAN.id), { timeout: 5_000 }).toEqual(['Already decided by carol.'])
    await sleep(300)
    expect(reply.history.filter((h) => statusOf(h.text) === 'done')).toHaveLength(1)
    const after = new SqliteStore(`${scratch.dir}/.chorus/chorus.db`)
    expect((await after.get(runId))?.status).toBe('completed')
    await after.close()
  }, 60_000)

  it('a deadline that passed while no process ran applies at the next start: "No decision", the vote closed', async () => {
    const { slack, openai, start } = await setup()
    const first = await start()
    const t0 = Date.now()
    const { reply, vote } = await decideAndPark(slack, first, 'Tabs or spaces? --for 10s')
    await kill9(slack, first)
    expect(statusOf(reply.text)).not.toBe('done')
    const parkedLine = first.logs.find((l) => l.msg === 'run.parked')
    const wakeAt = parkedLine?.wakeAt as number
    expect(wakeAt).toBeGreaterThan(t0)
    expect(wakeAt).toBeLessThanOrEqual(Date.now() + 10_000)
    // Nothing runs while every process is down.
    await sleep(Math.max(0, wakeAt - Date.now()) + 500)
    expect(statusOf(reply.text)).not.toBe('done')
    expect(hasControls(vote)).toBe(true)

    const second = await start()
    await expect.poll(() => statusOf(reply.text), { timeout: 10_000 }).toBe('done')
    expect(blocksOf(reply)).toContain('No decision:')
    expect(blocksOf(reply)).toContain('no one voted within 10s')
    expect(reply.history.filter((h) => statusOf(h.text) === 'done')).toHaveLength(1)
    expect(hasControls(vote)).toBe(false)
    expect(slack.posted()).toHaveLength(2)
    expect(decidePrompts(openai.requests)).toEqual({ angles: [1, 1, 1], rationale: 0 })
    expect(second.logs.some((l) => l.msg === 'journal.parked')).toBe(true)
  }, 60_000)

  // A click while no process is up cannot be tested over Socket Mode: Slack delivers interactions
  // only over a connected app's socket (with none, the user's client shows an error and nothing is
  // queued), and the fake does the same (`no Socket Mode client connected`). HTTP mode has no one
  // listening either. A click is kept only once some process receives it.
})
