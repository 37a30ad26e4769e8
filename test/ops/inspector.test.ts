import { randomUUID } from 'node:crypto'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { loadFlows } from '../../src/bot/commands/index.ts'
import { loadConfig } from '../../src/config/index.ts'
import { inspector, startOpsServer } from '../../src/ops/index.ts'
import { type NewRun, type RunRecord, SqliteStore } from '../../src/store/index.ts'

const TOKEN = 'test-inspector-token-0123456789'
const cleanup: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn()
})

const registered = await loadFlows()
const flows = {
  names: () => registered.map((r) => r.command.name),
  flow: (name: string) => registered.find((r) => r.command.name === name)?.flow,
}

/** An ops server with the inspector on a fresh journal; `traceparents` are what another part of Chorus wrote. */
async function serve(opts: { traceUrl?: string; traceparents?: Record<string, string>; on?: boolean } = {}) {
  const store = new SqliteStore(':memory:')
  const traced = {
    get: async (id: string): Promise<RunRecord | undefined> => {
      const run = await store.get(id)
      const traceparent = opts.traceparents?.[id]
      return run === undefined || traceparent === undefined ? run : { ...run, traceparent }
    },
    runSteps: (id: string) => store.runSteps(id),
    recent: (o: Parameters<SqliteStore['recent']>[0]) => store.recent(o),
    questions: (id: string) => store.questions(id),
  }
  const server = await startOpsServer({
    port: 0,
    host: '127.0.0.1',
    metrics: async () => ({ body: '', contentType: 'text/plain' }),
    checks: {},
    inspector:
      opts.on === false
        ? undefined
        : inspector({
            token: TOKEN,
            store: traced,
            flows,
            traceUrl: opts.traceUrl,
            log: pino({ level: 'silent' }),
          }),
  })
  cleanup.push(
    () => server.close(),
    () => store.close(),
  )
  return { store, base: `http://127.0.0.1:${server.port}` }
}

const bearer = { authorization: `Bearer ${TOKEN}` }

function newRun(overrides: Partial<NewRun> = {}): NewRun {
  return {
    id: randomUUID(),
    command: 'brainstorm',
    input: { topic: '<script>alert("topic")</script> & lunch', angles: 2 },
    user: 'Ada <b>',
    userId: 'U1',
    target: {
      platform: 'slack',
      teamId: 'T1',
      channel: 'C1',
      responseUrl: 'https://hooks.slack.com/commands/T1/SECRET-RESPONSE-URL',
    },
    createdAt: Date.now() - 5_000,
    ...overrides,
  }
}

describe('the run inspector', () => {
  it('is off (404) without CHORUS_INSPECTOR_TOKEN', async () => {
    const { base } = await serve({ on: false })
    const res = await fetch(`${base}/runs`)
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: 'inspector_off' })
  })

  it('answers 401 without the token or with a wrong one, and never says what it is', async () => {
    const { base } = await serve()
    for (const init of [
      {},
      { headers: { authorization: 'Bearer nope' } },
      { headers: { cookie: 'chorus_inspector=x' } },
    ]) {
      const res = await fetch(`${base}/runs`, init)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toContain('Bearer')
      expect(await res.text()).not.toContain(TOKEN)
    }
    const wrong = await fetch(`${base}/runs?token=nope`, { redirect: 'manual' })
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('set-cookie')).toBeNull()
    expect((await fetch(`${base}/runs`, { headers: bearer })).status).toBe(200)
  })

  it('trades ?token= for an HttpOnly SameSite=Strict cookie that holds no token, and takes it after', async () => {
    const { base } = await serve()
    const res = await fetch(`${base}/runs?status=completed&token=${TOKEN}`, { redirect: 'manual' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/runs?status=completed')
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/^chorus_inspector=[0-9a-f]{64}; Path=\/runs; HttpOnly; SameSite=Strict/)
    expect(cookie).not.toContain(TOKEN)
    const pair = cookie.split(';')[0] as string
    const page = await fetch(`${base}/runs?status=completed`, { headers: { cookie: pair } })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'")
  })

  it('lists recent runs with their facts, escaped, filtered by flow, status and platform', async () => {
    const { base, store } = await serve()
    const a = newRun()
    const b = newRun({
      command: 'vote',
      input: { question: 'why?' },
      target: {
        platform: 'discord',
        applicationId: 'A',
        interactionId: 'I',
        token: 'DISCORD-SECRET-TOKEN',
        createdAt: 1,
        guildId: 'G1',
      },
    })
    await store.create(a)
    await store.create(b)
    const summary = {
      calls: 3,
      tokens: 1234,
      promptTokens: 1000,
      completionTokens: 234,
      models: ['m'],
      costUsd: 0.0042,
    }
    await store.finish(a.id, 'completed', { summary })
    await store.rate(a.id, 'up')
    const html = await (await fetch(`${base}/runs`, { headers: bearer })).text()
    expect(html).toContain(`href="/runs/${a.id}"`)
    expect(html).toContain('Ada &lt;b&gt;')
    expect(html).not.toContain('Ada <b>')
    expect(html).toContain('1,234')
    expect(html).toContain('$0.0042')
    expect(html).toContain('👍 1 · 👎 0')
    expect(html).toContain('slack · T1 · #C1')
    expect(html).toContain('discord · G1')
    expect(html).not.toContain('SECRET')
    const ids = async (q: string) =>
      [
        ...(await (await fetch(`${base}/runs?${q}`, { headers: bearer })).text()).matchAll(
          /data-run="([^"]+)"/g,
        ),
      ].map((m) => m[1])
    const discordPage = await (await fetch(`${base}/runs/${b.id}`, { headers: bearer })).text()
    expect(discordPage).toContain('discord · G1')
    expect(discordPage).not.toContain('DISCORD-SECRET-TOKEN')
    expect(await ids('flow=vote')).toEqual([b.id])
    expect(await ids('status=completed')).toEqual([a.id])
    expect(await ids('platform=discord')).toEqual([b.id])
    expect(await ids('status=running&platform=slack')).toEqual([])
    // Values that are not choices are ignored, not passed on.
    expect(await ids('flow=%3Cx%3E&status=nope&limit=-3')).toEqual([b.id, a.id])
  })

  it('shows one run: graph, waterfall with retries and a cancelled step, views, outputs, escaped, no secrets', async () => {
    const { base, store } = await serve()
    const run = newRun()
    await store.create(run)
    const t = run.createdAt
    await store.markDelivered(run.id, 'placeholder')
    await store.recordStep(run.id, {
      step: 'angle-user-pain',
      call: 1,
      ok: true,
      value: '<img src=x onerror=alert(1)> idea',
      timing: { startedAt: t + 100, firstTokenAt: t + 400, finishedAt: t + 900, queuedMs: 50, attempts: 1 },
    })
    await store.recordStep(run.id, {
      step: 'angle-contrarian',
      call: 1,
      ok: false,
      error: 'model_timeout',
      timing: {
        startedAt: t + 100,
        finishedAt: t + 2_000,
        queuedMs: 0,
        attempts: 3,
        retries: ['model_rate_limited', 'model_server'],
      },
    })
    const question = { runId: run.id, id: 'pick#1#1', step: 'pick', createdAt: t, deadlineAt: t + 60_000 }
    await store.openQuestion({ ...question, spec: { prompt: 'Which <lunch>?', who: { kind: 'anyone' } } })
    await store.giveAnswer(run.id, question.id, {
      user: 'U2',
      name: 'Grace',
      value: 'tacos & <b>',
      at: t + 500,
    })
    const tally = { counts: [], total: 1 } as never
    await store.decide(
      run.id,
      question.id,
      { ok: true, value: 'tacos & <b>', outcome: 'answered', by: 'Grace', answers: [], tally, at: t + 600 },
      1,
    )
    await store.finish(run.id, 'completed', {
      summary: {
        startedAt: t + 80,
        calls: 2,
        tokens: 10,
        promptTokens: 6,
        completionTokens: 4,
        models: ['m'],
        cancelled: [
          {
            step: 'synthesis',
            call: 1,
            startedAt: t + 2_000,
            finishedAt: t + 2_100,
            queuedMs: 0,
            attempts: 1,
            cancelled: 'stopped by ada',
          },
        ],
      },
    })
    const res = await fetch(`${base}/runs/${run.id}`, { headers: bearer })
    expect(res.status).toBe(200)
    const html = await res.text()
    // The input shows as JSON (its quotes escaped by JSON, then by HTML).
    expect(html).toContain('&lt;script&gt;alert(\\&quot;topic\\&quot;)&lt;/script&gt; &amp; lunch')
    expect(html).not.toContain('<script>alert')
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; idea')
    expect(html).not.toContain('SECRET-RESPONSE-URL')
    expect(html).toMatch(/data-node="angle-user-pain"/)
    expect(html).toMatch(/data-lane="angle-contrarian" data-status="failed"/)
    expect(html).toContain('3 tries (model_rate_limited, model_server)')
    expect(html).toMatch(/data-lane="synthesis" data-status="cancelled"/)
    expect(html).toContain('cancelled: stopped by ada')
    expect(html).toContain('1st token +300 ms')
    expect(html).toMatch(/data-lane="queue"/)
    expect(html).toMatch(/<tr data-view="placeholder">/)
    expect(html).not.toContain('id="trace"')
    expect(html).toContain('<tr data-question="pick#1#1">')
    expect(html).toContain('Which &lt;lunch&gt;?')
    expect(html).toContain('Grace: tacos &amp; &lt;b&gt;')
    expect(html).toContain('tacos &amp; &lt;b&gt; (answered by Grace')
    expect((await fetch(`${base}/runs/${randomUUID()}`, { headers: bearer })).status).toBe(404)
    expect((await fetch(`${base}/runs/%E0%A4%A`, { headers: bearer })).status).toBe(404)
  })

  it('links the trace when CHORUS_TRACE_URL is set and the run has a W3C traceparent', async () => {
    const traced = newRun()
    const bad = newRun()
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const { base, store } = await serve({
      traceUrl: 'http://localhost:16686/trace/{traceId}',
      traceparents: { [traced.id]: `00-${traceId}-00f067aa0ba902b7-01`, [bad.id]: '00-"><script>-x-01' },
    })
    await store.create(traced)
    await store.create(bad)
    const html = await (await fetch(`${base}/runs/${traced.id}`, { headers: bearer })).text()
    expect(html).toContain(`<a id="trace" href="http://localhost:16686/trace/${traceId}"`)
    const other = await (await fetch(`${base}/runs/${bad.id}`, { headers: bearer })).text()
    expect(other).not.toContain('id="trace"')
    expect(other).not.toContain('<script>-x')
  })

  it('refuses a short token and a trace URL without {traceId} at start-up, saying what to set', () => {
    expect(() => loadConfig({ CHORUS_INSPECTOR_TOKEN: 'short' })).toThrow(
      /CHORUS_INSPECTOR_TOKEN must be at least 16/,
    )
    expect(() => loadConfig({ CHORUS_TRACE_URL: 'http://jaeger/trace/' })).toThrow(
      /CHORUS_TRACE_URL must be an http\(s\) URL with \{traceId\}/,
    )
    expect(() => loadConfig({ CHORUS_TRACE_URL: 'javascript:{traceId}' })).toThrow(/CHORUS_TRACE_URL/)
    const config = loadConfig({
      CHORUS_INSPECTOR_TOKEN: ` ${TOKEN} `,
      CHORUS_TRACE_URL: 'https://ui.honeycomb.io/t/{traceId}',
    })
    expect(config.CHORUS_INSPECTOR_TOKEN).toBe(TOKEN)
    expect(loadConfig({ CHORUS_INSPECTOR_TOKEN: '' }).CHORUS_INSPECTOR_TOKEN).toBeUndefined()
  })
})
