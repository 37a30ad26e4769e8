/**
 * A real `npm start` (Slack Socket Mode against the fake, the real SDK; the journal and queue on
 * Redis; the fake OpenAI server) serving /metrics and the run inspector on CHORUS_HTTP_PORT, after
 * one /brainstorm with a retried model call, a 429 from Slack and a 👍:
 * - every metric the Grafana dashboard (ops/grafana/chorus.json) queries is one /metrics exposes;
 * - the inspector in a real browser (Debian's chromium, driven by playwright-core): 401 without the
 *   token, the list and its filter, the run's waterfall; a screenshot of the run page
 *   (INSPECTOR_SCREENSHOT=docs/inspector.png writes the README's).
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { FAST_TIER, startFakeSlack } from '../fakes/slack.ts'
import { type ChorusProcess, scratchDir, socketModeEnv, startChorus } from '../support/chorus.ts'
import { type Family, parsePrometheus } from '../support/prometheus.ts'
import {
  deleteKeysUnder,
  redisTestsEnabled,
  TEST_REDIS_URL,
  testPrefix,
  testRedis,
  whenRedis,
} from '../support/redis.ts'
import { freePort } from '../support/redis-server.ts'

const TOKEN = 'live-inspector-token-4f9a2c1e'
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const DASHBOARD = new URL('../../ops/grafana/chorus.json', import.meta.url)

/** Every PromQL expression in the dashboard: panel targets and template variable queries. */
function expressions(dashboard: {
  panels: Array<{ title: string; targets?: Array<{ expr: string }> }>
  templating: { list: Array<{ name: string; query?: unknown }> }
}): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = []
  for (const p of dashboard.panels)
    for (const t of p.targets ?? []) out.push({ where: p.title, expr: t.expr })
  for (const v of dashboard.templating.list) {
    const q =
      typeof v.query === 'object' && v.query !== null ? (v.query as { query?: string }).query : undefined
    if (q !== undefined) out.push({ where: `variable ${v.name}`, expr: q })
  }
  return out
}

/** The family a PromQL series name reads, or undefined: histograms are read through _bucket, _sum, _count. */
function familyFor(name: string, families: Map<string, Family>): Family | undefined {
  const direct = families.get(name)
  if (direct !== undefined) return direct
  const m = /^(.+)_(bucket|sum|count)$/.exec(name)
  const base = m === null ? undefined : families.get(m[1] as string)
  return base?.type === 'histogram' ? base : undefined
}

/** Waits until `ok()` (beforeAll cannot use expect.poll). */
async function until(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

whenRedis(await redisTestsEnabled(), () => {
  describe('a real `npm start` on Redis: the Grafana dashboard and the run inspector', () => {
    const cleanup: Array<() => Promise<unknown> | unknown> = []
    const prefix = testPrefix()
    let chorus: ChorusProcess
    let base = ''
    let runId = ''

    beforeAll(async () => {
      const slack = await startFakeSlack({ tier3: FAST_TIER })
      let failedOnce = false
      const openai = await startFakeOpenAI({
        handler: (body) => {
          const prompt = body.messages.map((m) => m.content).join('\n')
          // The contrarian angle's first request fails with a 500: retried, counted as a model error.
          if (prompt.includes('Contrarian') && !failedOnce) {
            failedOnce = true
            return { status: 500 }
          }
          return {
            text: '- **Taco Tuesday** for the whole team, with a vote on toppings',
            latencyMs: 120,
            pieceIntervalMs: 15,
          }
        },
      })
      const scratch = scratchDir()
      const admin = testRedis()
      cleanup.push(
        () => slack.close(),
        () => openai.close(),
        () => scratch.remove(),
        async () => {
          await deleteKeysUnder(admin, prefix)
          await admin.quit()
        },
      )
      const port = await freePort()
      chorus = await startChorus(
        {
          ...socketModeEnv(slack, openai),
          CHORUS_MODEL: 'gpt-4o-mini',
          CHORUS_HTTP_PORT: String(port),
          CHORUS_INSPECTOR_TOKEN: TOKEN,
          REDIS_URL: TEST_REDIS_URL,
          CHORUS_REDIS_PREFIX: prefix,
        },
        scratch.dir,
      )
      cleanup.push(async () => {
        chorus.kill('SIGTERM')
        await chorus.exited
      })
      await chorus.waitForLog((l) => l.msg === 'ops.listening')
      base = `http://127.0.0.1:${port}`
      await slack.connected()
      slack.rateLimit('chat.update', 1, 1)
      await slack.send(
        'slash_commands',
        slack.slashPayload('/brainstorm', 'team lunch &lt;b&gt;&amp;&lt;/b&gt; ideas --angles 3'),
      )
      await until(() => (slack.posted()[0]?.text ?? '').includes('done'), 15_000, 'the reply says done')
      const reply = slack.posted()[0]
      if (reply === undefined) throw new Error('no reply')
      const started = chorus.logs.find((l) => l.msg === 'run.started')
      runId = String(started?.runId ?? '')
      if (runId === '') throw new Error('no run.started log line with a runId')
      await slack.click(reply, 'chorus_feedback_up', { id: 'U777', name: 'grace' })
      await chorus.waitForLog((l) => l.msg === 'reply.feedback')
    }, 60_000)

    afterAll(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn()
    })

    it('every metric a Grafana panel queries is exposed on /metrics, and the run moved the ones it should', async () => {
      const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'))
      const families = parsePrometheus(await (await fetch(`${base}/metrics`)).text())
      const exprs = expressions(dashboard)
      expect(exprs.length).toBeGreaterThan(20)
      const missing: string[] = []
      const named = new Set<string>()
      for (const { where, expr } of exprs) {
        const names = expr.match(/\bchorus_[a-zA-Z0-9_]+/g) ?? []
        expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0)
        for (const name of names) {
          named.add(name)
          if (familyFor(name, families) === undefined) missing.push(`${where}: ${name}`)
        }
      }
      expect(missing).toEqual([])
      // What this one run moved, so those panels show data, not just a name that exists.
      const total = (name: string, labels: Record<string, string> = {}) =>
        [...families.values()]
          .flatMap((f) => f.samples)
          .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
          .reduce((sum, s) => sum + s.value, 0)
      const flow = { flow: 'brainstorm', platform: 'slack' }
      expect(total('chorus_commands_total', { ...flow, outcome: 'completed' })).toBe(1)
      for (const h of ['chorus_first_result_seconds', 'chorus_first_text_seconds', 'chorus_final_seconds'])
        expect(total(`${h}_count`, flow), h).toBe(1)
      expect(total('chorus_ack_seconds_count', { platform: 'slack' })).toBeGreaterThanOrEqual(1)
      expect(total('chorus_model_calls_total', { outcome: 'ok' })).toBe(4)
      expect(total('chorus_model_errors_total')).toBe(1)
      expect(total('chorus_model_tokens_total')).toBeGreaterThan(0)
      expect(total('chorus_feedback_total', { ...flow, rating: 'up' })).toBe(1)
      expect(total('chorus_platform_rate_limited_total', { platform: 'slack' })).toBeGreaterThanOrEqual(1)
      expect(total('chorus_redis_up')).toBe(1)
      expect(named.has('chorus_queue_jobs') && total('chorus_limiter_wait_seconds_count') > 0).toBe(true)
    })

    // Like the Redis tests: always in CI (`.ci/run` installs chromium), elsewhere only where it is installed.
    const inCi = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false'
    const browsable = inCi || existsSync(CHROMIUM)
    if (!browsable)
      console.warn(
        `skipping the browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
      )
    it.skipIf(!browsable)(
      'shows the run in Chromium: 401 without the token, the list and its filter, the waterfall',
      async () => {
        expect(
          existsSync(CHROMIUM),
          `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
        ).toBe(true)
        const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
        cleanup.push(() => browser.close())
        const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
        const page = await context.newPage()

        const denied = await page.goto(`${base}/runs`)
        expect(denied?.status()).toBe(401)
        expect(await page.textContent('h1')).toContain('needs its token')

        const list = await page.goto(`${base}/runs?token=${TOKEN}`)
        expect(list?.status()).toBe(200)
        expect(new URL(page.url()).search).toBe('')
        const [cookie] = await context.cookies()
        expect(cookie).toMatchObject({ name: 'chorus_inspector', httpOnly: true, sameSite: 'Strict' })
        expect(cookie?.value).not.toContain(TOKEN)
        const row = page.locator(`tr[data-run="${runId}"]`)
        await expect.poll(() => row.count()).toBe(1)
        expect(await row.textContent()).toContain('brainstorm')
        expect(await row.textContent()).toContain('👍 1')

        // Choosing a status submits the form (the page's one script).
        await Promise.all([
          page.waitForURL(/status=failed/),
          page.selectOption('select[name="status"]', 'failed'),
        ])
        expect(await page.locator(`tr[data-run="${runId}"]`).count()).toBe(0)
        await Promise.all([
          page.waitForURL(/status=completed/),
          page.selectOption('select[name="status"]', 'completed'),
        ])
        await Promise.all([
          page.waitForURL(new RegExp(`/runs/${runId}$`)),
          page.click(`tr[data-run="${runId}"] a`),
        ])

        // The topic as typed, shown as text (Slack sent it as `&lt;b&gt;&amp;&lt;/b&gt;`; Chorus decoded it once).
        expect(await page.textContent('#input')).toContain('team lunch <b>&</b> ideas')
        expect(await page.locator('#input b').count()).toBe(0)
        const lanes = page.locator('#waterfall .row[data-status]')
        const lane = (step: string) => page.locator(`#waterfall .row[data-lane="${step}"]`)
        for (const step of ['angle-user-pain', 'angle-contrarian', 'angle-constraint', 'first', 'synthesis'])
          expect(await lane(step).getAttribute('data-status'), step).toBe('ok')
        expect(await lanes.count()).toBeGreaterThanOrEqual(7)
        expect(await lane('angle-contrarian').textContent()).toContain('2 tries (model_unavailable)')
        expect(await lane('angle-user-pain').locator('.tick').count()).toBe(1)
        expect(await lane('queue').textContent()).toContain('queued')
        for (const view of ['placeholder', 'first', 'final'])
          expect(await page.locator(`#views tr[data-view="${view}"]`).count(), view).toBe(1)
        expect(await page.locator('#graph .node.output').count()).toBe(2)
        expect(await page.textContent('#facts')).toContain('feedback1 up · 0 down')
        const html = await page.content()
        expect(html).not.toContain('hooks.slack.com')

        const shot = process.env.INSPECTOR_SCREENSHOT ?? join(tmpdir(), `chorus-inspector-${process.pid}.png`)
        await page.screenshot({ path: shot, fullPage: true })
        expect(statSync(shot).size).toBeGreaterThan(20_000)
        expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG')
        if (process.env.INSPECTOR_SCREENSHOT === undefined) rmSync(shot)
      },
      60_000,
    )
  })
})
