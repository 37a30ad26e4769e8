/**
 * A Redis outage with runs in flight, as an operator would try it: a redis-server of its own with AOF,
 * one `npm start` and one `npm run worker` (default lock and stall settings), 20 `/brainstorm` runs
 * whose slow angles are still at the model, then Redis killed with -9 (or paused with SIGSTOP) for
 * BENCH_OUTAGE_S seconds (default 15; `BENCH_OUTAGE_S=60` for a minute) and started again on the same
 * data. Prints the runs in flight, how many finished with one first result and one final, duplicates,
 * the answers to 5 commands sent during the outage, and the time from Redis' return to the last final.
 * `npm run bench:outage` (`BENCH_HOW=SIGSTOP` to pause instead of kill).
 */
import { expectOneFirstAndOneFinal, gatedAngles, promptCounts, statusOf } from '../test/durable/helpers.ts'
import { startFakeOpenAI } from '../test/fakes/openai.ts'
import { APP_TOKEN, BOT_TOKEN, FAST_TIER, FAST_WRITES_PER_MIN, startFakeSlack } from '../test/fakes/slack.ts'
import { type ChorusProcess, scratchDir, startChorus } from '../test/support/chorus.ts'
import { testPrefix } from '../test/support/redis.ts'
import { startOwnRedis } from '../test/support/redis-server.ts'

const RUNS = 20
const DURING = 5
const OUTAGE_MS = Number(process.env.BENCH_OUTAGE_S ?? 15) * 1_000
const HOW = process.env.BENCH_HOW === 'SIGSTOP' ? 'SIGSTOP' : 'kill -9'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

// Slack's Tier 3 raised (as bench:scale does), so the outage rather than one workspace's 50 edits a minute is measured.
const slack = await startFakeSlack({ tier3: FAST_TIER })
const model = gatedAngles(undefined, { synthesisMs: 500 })
const openai = await startFakeOpenAI({ handler: model.handler })
const redis = await startOwnRedis()
const scratch = scratchDir()
const procs: ChorusProcess[] = []
try {
  const env = {
    REDIS_URL: redis.url,
    CHORUS_REDIS_PREFIX: testPrefix(),
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_BASE_URL: openai.url,
    CHORUS_MODEL: 'fake',
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.apiUrl,
    CHORUS_SLACK_WRITES_PER_MIN: FAST_WRITES_PER_MIN,
  }
  procs.push(await startChorus(env, scratch.dir, 'start'), await startChorus(env, scratch.dir, 'worker'))
  for (let i = 0; i < RUNS; i++)
    await slack.send('slash_commands', slack.slashPayload('/brainstorm', `topic ${i}`))
  const firsts = () => slack.posted().filter((m) => statusOf(m.text) === 'first result').length
  for (let i = 0; i < 300 && firsts() < RUNS; i++) await sleep(100)
  const inFlight = slack.posted().filter((m) => statusOf(m.text) !== 'done').length

  if (HOW === 'kill -9') await redis.kill()
  else redis.signal('SIGSTOP')
  const t0 = performance.now()
  model.release()
  await sleep(1_000)
  const during: Array<{ ms: number; refused: boolean }> = []
  for (let i = 0; i < DURING; i++) {
    const ack = await slack
      .send('slash_commands', slack.slashPayload('/brainstorm', `during ${i}`))
      .catch(() => ({ ms: Number.POSITIVE_INFINITY, payload: undefined }))
    during.push({ ms: ack.ms, refused: /cannot take commands right now/.test(JSON.stringify(ack.payload)) })
  }
  await sleep(OUTAGE_MS - (performance.now() - t0))
  if (HOW === 'kill -9') await redis.start()
  else redis.signal('SIGCONT')
  const back = performance.now()

  const done = () => slack.posted().filter((m) => statusOf(m.text) === 'done').length
  for (let i = 0; i < 1_200 && done() < RUNS; i++) await sleep(100)
  const recoverMs = performance.now() - back
  let clean = 0
  for (const message of slack.posted()) {
    try {
      expectOneFirstAndOneFinal(message)
      clean++
    } catch {}
  }
  const asked = [...promptCounts(openai.requests).values()]
  console.log(
    `Node ${process.version}, ${process.platform}/${process.arch}, ${new Date().toISOString().slice(0, 10)}`,
  )
  console.log(
    `Redis ${HOW} for ${OUTAGE_MS / 1000} s, ${RUNS} /brainstorm runs, one npm start + one npm run worker`,
  )
  console.log(
    '| runs in flight | finished after | one first + one final | prompts asked twice | commands during the outage | answered within 3 s, refused clearly | time from Redis back to the last final |',
  )
  console.log('|---|---|---|---|---|---|---|')
  console.log(
    `| ${inFlight} | ${done()}/${RUNS} | ${clean}/${slack.posted().length} | ${asked.filter((n) => n > 1).length} | ${DURING} | ${during.filter((d) => d.ms < 3_000 && d.refused).length}/${DURING} (slowest ${Math.round(Math.max(...during.map((d) => d.ms)))} ms) | ${(recoverMs / 1000).toFixed(1)} s |`,
  )
} finally {
  for (const p of procs) p.kill('SIGKILL')
  await Promise.all(procs.map((p) => p.exited))
  redis.signal('SIGCONT')
  await redis.remove()
  scratch.remove()
  await slack.close()
  await openai.close()
}
