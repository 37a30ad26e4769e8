import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Bot, loadConfig, type ReplyView } from '../../src/bot/index.ts'
import { OpenAIModel } from '../../src/llm/index.ts'
import { type FakeOpenAI, type Handler, startFakeOpenAI } from '../fakes/openai.ts'

let fake: FakeOpenAI | undefined
afterEach(async () => {
  await fake?.close()
  fake = undefined
})

/** Runs a command end to end: bot → engine → real openai SDK → fake server over HTTP. */
async function run(
  command: string,
  input: Record<string, unknown>,
  handler: Handler,
  env: Record<string, string> = {},
) {
  fake = await startFakeOpenAI({ handler })
  const model = new OpenAIModel({ apiKey: 'sk-test', baseURL: fake.url, model: 'fake', timeoutMs: 5_000 })
  const bot = await Bot.create({ config: loadConfig(env), model, logger: pino({ level: 'silent' }) })
  const cmd = bot.command(command)
  if (cmd === undefined) throw new Error(`no command ${command}`)
  const views: Array<ReplyView & { at: number }> = []
  const t0 = performance.now()
  const handle = bot.start({
    command: cmd,
    input,
    user: 'U1',
    platform: 'console',
    minIntervalMs: 0,
    sink: { show: async (v) => void views.push({ ...v, at: performance.now() - t0 }) },
  })
  return { bot, handle, views, fake, t0 }
}

describe('brainstorm', () => {
  it('posts the first idea before the slowest angle finished, then the ranked synthesis', async () => {
    const latency: Record<string, number> = {
      'User pain': 20,
      Contrarian: 60,
      'Tight constraint': 100,
      Analogy: 140,
      Moonshot: 400,
    }
    const { handle, views, fake } = await run('brainstorm', { topic: 'lunch', angles: 5 }, (body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      if (angle === undefined) return { text: '1. **Soup club** — ranked first' }
      return { text: `- **${angle} idea**: something`, latencyMs: latency[angle] ?? 0 }
    })
    const result = await handle.done
    expect(result.status).toBe('completed')
    const first = views.find((v) => v.status === 'first')
    expect(first?.first?.markdown).toContain('User pain idea')
    expect(first?.at).toBeLessThan(350) // the 400 ms angle was still running
    expect(views.at(-1)?.final?.markdown).toContain('Soup club')
    // The synthesis saw every angle's ideas.
    const synthesis = fake.requests.at(-1)?.prompt ?? ''
    for (const angle of Object.keys(latency)) expect(synthesis).toContain(`${angle} idea`)
    expect(result.usage.calls).toBe(6)
  })

  it('answers with 4 of 5 angles when one keeps failing', async () => {
    const { handle, views } = await run('brainstorm', { topic: 'lunch', angles: 5 }, (body) => {
      const prompt = body.messages.at(-1)?.content ?? ''
      if (prompt.includes('Moonshot')) return { status: 500 }
      return { text: prompt.includes('Angle:') ? '- **idea**' : 'ranked' }
    })
    expect((await handle.done).status).toBe('completed')
    const final = views.at(-1)
    expect(final?.failures).toEqual([
      { step: 'angle-moonshot', message: 'the model provider is unavailable' },
    ])
    expect(final?.final?.markdown).toContain('4 of 5 angles answered')
  })

  it('waits out a 429 with retry-after and succeeds', async () => {
    let limited = 0
    const { handle, fake } = await run('brainstorm', { topic: 'lunch', angles: 2 }, () => {
      if (limited < 2) {
        limited++
        return { status: 429, headers: { 'retry-after-ms': '50' } }
      }
      return { text: '- **idea**' }
    })
    expect((await handle.done).status).toBe('completed')
    expect(fake.requests.length).toBe(5) // 2 rate-limited + 2 angles + synthesis
  })

  it('Stop closes every in-flight model request at the server', async () => {
    const { bot, handle, fake } = await run('brainstorm', { topic: 'lunch', angles: 3 }, () => ({
      hang: true,
    }))
    await fake.waitForRequests(3)
    bot.get(handle.runId)?.cancel('Ada')
    const result = await handle.done
    expect(result.status).toBe('cancelled')
    await expect.poll(() => fake.requests.every((r) => r.aborted)).toBe(true)
  })
})

describe('the shared limiter', () => {
  it('keeps model calls in flight at CHORUS_CONCURRENCY', async () => {
    let active = 0
    let peak = 0
    const { handle } = await run(
      'brainstorm',
      { topic: 'lunch', angles: 8 },
      async () => {
        active++
        peak = Math.max(peak, active)
        await new Promise((r) => setTimeout(r, 20))
        active--
        return { text: '- **idea**' }
      },
      { CHORUS_CONCURRENCY: '3' },
    )
    expect((await handle.done).status).toBe('completed')
    expect(peak).toBe(3)
  })
})

describe('brand', () => {
  it('combines the slogan and the tagline', async () => {
    const { handle, views } = await run('brand', { brand: 'Acme' }, (body) =>
      body.messages.at(-1)?.content.includes('slogan')
        ? { text: 'Go Acme', latencyMs: 30 }
        : { text: 'Acme makes it', latencyMs: 5 },
    )
    await handle.done
    expect(views.find((v) => v.status === 'first')?.first?.markdown).toBe('*Tagline:* Acme makes it')
    expect(views.at(-1)?.final?.markdown).toBe('*Slogan:* Go Acme\n*Tagline:* Acme makes it')
  })
})

describe('review', () => {
  it('reports every section in declared order, marking a failed one', async () => {
    const { handle, views } = await run('review', { text: 'We ship Friday.' }, (body) => {
      const system = body.messages[0]?.content ?? ''
      if (system.includes('tone')) return { status: 400 }
      return {
        text: `- note from ${/the (\w+) reviewer/.exec(system)?.[1]}`,
        latencyMs: system.includes('clarity') ? 60 : 5,
      }
    })
    await handle.done
    const report = views.at(-1)?.final?.markdown ?? ''
    const order = ['*Clarity*', '*Tone*', '*Correctness*', '*Risk*'].map((s) => report.indexOf(s))
    expect(order.every((i, n) => i >= 0 && (n === 0 || i > (order[n - 1] as number)))).toBe(true)
    expect(report).toContain('note from clarity')
    expect(report).toContain('_This review failed; try again for it._')
  })
})

describe('vote', () => {
  it('stops once a strict majority agrees and cancels the rest', async () => {
    const answers = ['Paris', 'paris.', '**Paris**', 'Lyon', 'Paris']
    let i = 0
    const { handle, views, fake } = await run('vote', { question: 'Capital of France?', voters: 5 }, () => {
      const n = i++
      return n < 3 ? { text: answers[n] as string, latencyMs: 10 * (n + 1) } : { hang: true }
    })
    const result = await handle.done
    expect(result.status).toBe('completed')
    expect(views.at(-1)?.final?.markdown).toMatch(
      /^\*Paris\*: 3 of 5 agree\n_Majority reached early; 2 more answers were not needed\._/,
    )
    await expect.poll(() => fake.requests.filter((r) => r.aborted).length).toBe(2)
  })

  it('gives the plurality when no strict majority forms', async () => {
    const answers = ['A', 'B', 'A', 'C', 'B']
    let i = 0
    const { handle, views } = await run('vote', { question: 'Pick', voters: 5 }, () => ({
      text: answers[i++ % 5] as string,
    }))
    await handle.done
    const text = views.at(-1)?.final?.markdown ?? ''
    expect(text).toContain('*A*: 2 of 5 agree')
    expect(text).toContain('No strict majority')
    expect(text).toContain('Other answers: B (2), C (1)')
  })
})
