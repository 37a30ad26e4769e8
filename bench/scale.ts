/**
 * Scale-out on BullMQ: 200 concurrent /brainstorm commands through the fake Slack (Socket Mode),
 * one receiver (receive only) and 1, 2 or 4 `npm run worker` processes, a fake model with a fixed
 * latency. Prints commands per second, time to the first result and to the final (p50/p99, from
 * sending the command), and Redis commands per run. `npm run bench:scale` (needs Redis on
 * 127.0.0.1:6379 or TEST_REDIS_URL; every key is under a fresh prefix, removed afterwards).
 */
import { startFakeOpenAI } from '../test/fakes/openai.ts'
import { APP_TOKEN, BOT_TOKEN, FAST_TIER, FAST_WRITES_PER_MIN, startFakeSlack } from '../test/fakes/slack.ts'
import { type ChorusProcess, scratchDir, startChorus } from '../test/support/chorus.ts'
import { deleteKeysUnder, TEST_REDIS_URL, testPrefix, testRedis } from '../test/support/redis.ts'

const COMMANDS = 200
const MODEL_MS = 200

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number
}
const ms = (x: number) => `${Math.round(x)} ms`

/**
 * Counts the commands clients send under `prefix` (round-trips, pipelined ones included), apart
 * from those that Lua scripts run inside Redis, by watching MONITOR.
 */
async function countCommands(prefix: string) {
  const client = testRedis()
  const monitor = await client.monitor()
  const counts = { client: 0, script: 0 }
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!args.some((a) => a.includes(prefix))) return
    if (source === 'lua') counts.script++
    else counts.client++
  })
  return {
    counts,
    // Both connections: an open one would keep the benchmark from exiting.
    stop: () => {
      monitor.disconnect()
      client.disconnect()
    },
  }
}

async function round(workers: number) {
  const slack = await startFakeSlack({ tier3: FAST_TIER })
  const openai = await startFakeOpenAI({ handler: () => ({ text: '- **An idea**', latencyMs: MODEL_MS }) })
  const redis = testRedis()
  const prefix = testPrefix()
  const scratch = scratchDir()
  const procs: ChorusProcess[] = []
  try {
    const env = {
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_APP_TOKEN: APP_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      CHORUS_SLACK_WRITES_PER_MIN: FAST_WRITES_PER_MIN,
      OPENAI_API_KEY: 'sk-bench',
      OPENAI_BASE_URL: openai.url,
      CHORUS_MODEL: 'fake',
      REDIS_URL: TEST_REDIS_URL,
      CHORUS_REDIS_PREFIX: prefix,
      CHORUS_CONCURRENCY: '256',
      LOG_LEVEL: 'warn',
    }
    procs.push(await startChorus({ ...env, LOG_LEVEL: 'info', CHORUS_WORKER_RUNS: '0' }, scratch.dir))
    for (let i = 0; i < workers; i++)
      procs.push(await startChorus({ ...env, LOG_LEVEL: 'info' }, scratch.dir, 'worker'))
    const watch = await countCommands(prefix)
    const sent = new Map<string, number>()
    const first = new Map<string, number>()
    const final = new Map<string, number>()
    const t0 = performance.now()
    const acks = Array.from({ length: COMMANDS }, (_, i) => {
      const topic = `bench ${i}`
      sent.set(topic, performance.now())
      return slack.send('slash_commands', slack.slashPayload('/brainstorm', topic))
    })
    const ackMs = (await Promise.all(acks)).map((a) => a.ms)
    const deadline = performance.now() + 120_000
    while (final.size < COMMANDS && performance.now() < deadline) {
      const now = performance.now()
      for (const m of slack.posted()) {
        const topic = /^Brainstorm: (.+?): /.exec(m.text)?.[1]
        if (topic === undefined) continue
        if (m.history.some((h) => h.text.endsWith(': first result')) && !first.has(topic))
          first.set(topic, now)
        if (m.text.endsWith(': done') && !final.has(topic)) {
          final.set(topic, now)
          if (!first.has(topic)) first.set(topic, now)
        }
      }
      await new Promise((r) => setTimeout(r, 10))
    }
    const wall = performance.now() - t0
    watch.stop()
    const lat = (m: Map<string, number>) => [...m].map(([t, at]) => at - (sent.get(t) as number))
    return {
      workers,
      done: final.size,
      perSecond: (final.size / wall) * 1000,
      ack99: quantile(ackMs, 0.99),
      first: lat(first),
      final: lat(final),
      roundTrips: watch.counts.client / COMMANDS,
      scripted: watch.counts.script / COMMANDS,
    }
  } finally {
    for (const p of procs) p.kill('SIGKILL')
    await Promise.all(procs.map((p) => p.exited))
    await deleteKeysUnder(redis, prefix)
    await redis.quit()
    await slack.close()
    await openai.close()
    scratch.remove()
  }
}

console.log(
  `Node ${process.version}, ${process.platform}/${process.arch}; ${COMMANDS} concurrent /brainstorm (5 angles + synthesis), model latency ${MODEL_MS} ms\n`,
)
console.log(
  '| workers | done | commands/s | ack p99 | first p50 | first p99 | final p50 | final p99 | Redis round-trips per run | commands inside scripts per run |',
)
console.log('|---|---|---|---|---|---|---|---|---|---|')
for (const workers of (process.env.BENCH_WORKERS ?? '1,2,4').split(',').map(Number)) {
  const r = await round(workers)
  console.log(
    `| ${r.workers} | ${r.done}/${COMMANDS} | ${r.perSecond.toFixed(1)} | ${ms(r.ack99)} | ${ms(quantile(r.first, 0.5))} | ${ms(quantile(r.first, 0.99))} | ${ms(quantile(r.final, 0.5))} | ${ms(quantile(r.final, 0.99))} | ${r.roundTrips.toFixed(0)} | ${r.scripted.toFixed(0)} |`,
  )
}
