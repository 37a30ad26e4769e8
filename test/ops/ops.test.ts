import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startOpsServer, storeCheck } from '../../src/ops/index.ts'
import { SqliteStore } from '../../src/store/index.ts'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { FAST_TIER, startFakeSlack } from '../fakes/slack.ts'
import { scratchDir, socketModeEnv, startChorus } from '../support/chorus.ts'
import { parsePrometheus, sampleValue } from '../support/prometheus.ts'

const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as { port: number }
  await new Promise((r) => server.close(r))
  return port
}

async function scrape(base: string) {
  const res = await fetch(`${base}/metrics`)
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toContain('text/plain')
  return parsePrometheus(await res.text())
}

describe('health and metrics of a real `npm start` process (Slack Socket Mode, SQLite)', () => {
  it('serves /healthz, /readyz and /metrics; a run moves the counters; /readyz is 503 once Slack is gone', async () => {
    const slack = await startFakeSlack({ tier3: FAST_TIER })
    const openai = await startFakeOpenAI({ handler: () => ({ text: '- **idea**', latencyMs: 30 }) })
    const scratch = scratchDir()
    cleanup.push(
      () => slack.close(),
      () => openai.close(),
      () => scratch.remove(),
    )
    const port = await freePort()
    const chorus = await startChorus(
      {
        ...socketModeEnv(slack, openai),
        CHORUS_MODEL: 'fake',
        CHORUS_HTTP_PORT: String(port),
      },
      scratch.dir,
    )
    cleanup.push(() => chorus.kill('SIGKILL'))
    await chorus.waitForLog((l) => l.msg === 'ops.listening')
    const base = `http://127.0.0.1:${port}`
    const health = await fetch(`${base}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok' })
    await slack.connected()
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 5_000 }).toBe(200)

    const before = await scrape(base)
    expect(before.get('chorus_commands_total')?.type).toBe('counter')
    expect(before.get('chorus_first_result_seconds')?.type).toBe('histogram')
    expect(sampleValue(before, 'chorus_queue_jobs', { state: 'waiting' })).toBe(0)

    const command = slack.slashPayload('/brainstorm', 'lunch --angles 2')
    await slack.send('slash_commands', command)
    await expect.poll(() => slack.posted()[0]?.text ?? '', { timeout: 8_000 }).toContain('done')
    const labels = { flow: 'brainstorm', platform: 'slack' }
    await expect
      .poll(
        async () =>
          sampleValue(await scrape(base), 'chorus_commands_total', { ...labels, outcome: 'completed' }),
        {
          timeout: 3_000,
        },
      )
      .toBe(1)
    const after = await scrape(base)
    if (process.env.CHORUS_SAMPLE_SCRAPE)
      writeFileSync(process.env.CHORUS_SAMPLE_SCRAPE, await (await fetch(`${base}/metrics`)).text())
    expect(sampleValue(after, 'chorus_ack_seconds_count', { platform: 'slack' })).toBe(1)
    expect(sampleValue(after, 'chorus_first_result_seconds_count', labels)).toBe(1)
    expect(sampleValue(after, 'chorus_first_text_seconds_count', labels)).toBe(1)
    expect(sampleValue(after, 'chorus_first_text_seconds_sum', labels)).toBeLessThanOrEqual(
      sampleValue(after, 'chorus_first_result_seconds_sum', labels),
    )
    expect(sampleValue(after, 'chorus_final_seconds_count', labels)).toBe(1)
    expect(sampleValue(after, 'chorus_final_seconds_sum', labels)).toBeGreaterThan(
      sampleValue(after, 'chorus_first_result_seconds_sum', labels),
    )
    const requests = openai.requests.length
    expect(sampleValue(after, 'chorus_model_calls_total', { model: 'openai:fake', outcome: 'ok' })).toBe(
      requests,
    )
    expect(
      sampleValue(after, 'chorus_model_tokens_total', { model: 'openai:fake', kind: 'completion' }),
    ).toBeGreaterThan(0)
    expect(sampleValue(after, 'chorus_limiter_wait_seconds_count')).toBeGreaterThan(0)
    expect(sampleValue(after, 'chorus_active_runs')).toBe(0)
    expect(
      sampleValue(after, 'chorus_reply_budget_wait_seconds_count', { platform: 'slack', priority: 'final' }),
    ).toBeGreaterThanOrEqual(1)
    // Histogram buckets are cumulative and end at +Inf with the count.
    const buckets = after.get('chorus_final_seconds')?.samples.filter((s) => s.name.endsWith('_bucket')) ?? []
    expect(buckets.at(-1)?.labels.le).toBe('+Inf')
    expect(buckets.at(-1)?.value).toBe(1)

    // 👍 and 👎 on the reply are counted by flow, platform and rating; a repeated click once.
    const reply = slack.posted()[0] as NonNullable<ReturnType<typeof slack.posted>[number]>
    const runId = /"action_id":"chorus_feedback_up","value":"([^"]+)"/.exec(JSON.stringify(reply.blocks))?.[1]
    expect(runId).toBeDefined()
    const rate = (actionId: string, user: string) =>
      slack.send(
        'interactive',
        slack.blockAction(
          reply,
          { actionId, value: runId as string },
          { user, responseUrl: command.response_url as string },
        ),
      )
    await rate('chorus_feedback_up', 'grace')
    await rate('chorus_feedback_up', 'grace')
    await rate('chorus_feedback_up', 'heidi')
    await rate('chorus_feedback_down', 'ivan')
    await expect
      .poll(
        async () => sampleValue(await scrape(base), 'chorus_feedback_total', { ...labels, rating: 'down' }),
        {
          timeout: 3_000,
        },
      )
      .toBe(1)
    expect(sampleValue(await scrape(base), 'chorus_feedback_total', { ...labels, rating: 'up' })).toBe(2)

    // Slack goes away: the socket closes, reconnecting fails, and the process is not ready.
    await slack.close()
    await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 5_000 }).toBe(503)
    const body = (await (await fetch(`${base}/readyz`)).json()) as { ready: boolean; reason: string }
    expect(body.ready).toBe(false)
    expect(body.reason).toMatch(/^slack: Slack Socket Mode is /)
    expect((await fetch(`${base}/healthz`)).status).toBe(200)
  })
})

describe('the ops server', () => {
  it('answers 503 with the reason when the store is closed, and 404 elsewhere', async () => {
    const store = new SqliteStore(':memory:')
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      metrics: async () => ({ body: '', contentType: 'text/plain' }),
      checks: { store: storeCheck(store) },
    })
    cleanup.push(() => server.close())
    const base = `http://127.0.0.1:${server.port}`
    expect((await fetch(`${base}/readyz`)).status).toBe(200)
    await store.close()
    const res = await fetch(`${base}/readyz`)
    expect(res.status).toBe(503)
    const body = (await res.json()) as {
      ready: boolean
      reason: string
      checks: Record<string, { ok: boolean }>
    }
    expect(body.ready).toBe(false)
    expect(body.checks.store?.ok).toBe(false)
    expect(body.reason).toMatch(/^store: /)
    expect((await fetch(`${base}/nope`)).status).toBe(404)
  })

  it('fails a check that does not answer in time', async () => {
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      metrics: async () => ({ body: '', contentType: 'text/plain' }),
      checks: { redis: () => new Promise(() => {}) },
      checkTimeoutMs: 100,
    })
    cleanup.push(() => server.close())
    const res = await fetch(`http://127.0.0.1:${server.port}/readyz`)
    expect(res.status).toBe(503)
    expect(((await res.json()) as { reason: string }).reason).toContain('no answer within 100 ms')
  })
})
