import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { Bot, loadConfig, type ReplyView } from '../../src/bot/index.ts'
import { extractAnswer, hash, mulberry32, OpenAIModel } from '../../src/llm/index.ts'
import {
  type FakeChunk,
  type FakeOpenAI,
  type Handler,
  interleaved,
  startFakeOpenAI,
} from '../fakes/openai.ts'

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

  it('works against a server that ignores stream: each whole completion is read as the answer it is', async () => {
    const { handle, views, fake } = await run('brainstorm', { topic: 'lunch', angles: 2 }, (body) => {
      const angle = /Angle: (.+?)\./.exec(body.messages.at(-1)?.content ?? '')?.[1]
      return { text: angle === undefined ? '1. **Soup club**' : `- **${angle} idea**`, ignoreStream: true }
    })
    const result = await handle.done
    expect(result.status).toBe('completed')
    expect(views.at(-1)?.failures ?? []).toEqual([])
    expect(views.at(-1)?.final?.markdown).toContain('Soup club')
    expect(fake.requests[0]?.body.stream).toBe(true)
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
  /** A server that honours n: choice i is `answers[i]`, finishing after `latency[i]` ms. */
  const batch =
    (answers: string[], latency: number[], judge = '{"response": 1}'): Handler =>
    (body) =>
      body.response_format !== undefined || body.messages[0]?.content.includes('JSON')
        ? { text: judge }
        : { texts: answers, choiceLatencyMs: latency }

  it('asks once with n, shows the first answer at once, stops when the winner is certain and says so', async () => {
    const { handle, views, fake } = await run(
      'vote',
      { question: 'Capital of France?', voters: 5 },
      batch(['Paris', 'paris.', '**Paris**', 'Lyon', 'Paris'], [10, 40, 70, 2_000, 2_000]),
    )
    const result = await handle.done
    expect(result.status).toBe('completed')
    const first = views.find((v) => v.status === 'first')
    expect(first?.first?.markdown).toBe('*Paris* (waiting for the others)')
    expect(first?.at).toBeLessThan(views.at(-1)?.at ?? 0)
    const final = views.at(-1)
    expect(final?.final?.markdown).toBe('*Paris*\n3 of 3 answers agree; 2 not needed.')
    // Progress counts answers received; the two not needed are cancelled, not failed.
    expect(final?.progress).toMatchObject({ done: 3, failed: 0, total: 5 })
    expect(fake.requests).toHaveLength(1)
    expect(fake.requests[0]?.body).toMatchObject({ n: 5, stream: true })
    await expect.poll(() => fake.requests[0]?.aborted).toBe(true)
    expect(fake.requests[0]?.choicesSent).toBe(3)
    expect(result.usage.calls).toBe(1)
  })

  it('shows the true tally, not one capped at the majority', async () => {
    const { handle, views } = await run(
      'vote',
      { question: 'Capital of France?', voters: 7 },
      batch(['Paris', 'Paris', 'Lyon', 'Paris', 'Paris', 'Nice', 'Lyon'], [5, 10, 15, 20, 25, 2_000, 2_000]),
    )
    await handle.done
    expect(views.at(-1)?.final?.markdown).toBe(
      '*Paris*\n4 of 5 answers agree; 2 not needed.\nOther answers: Lyon (1)',
    )
  })

  it('falls back to parallel requests when the server ignores n, still stopping early', async () => {
    let i = 0
    const { handle, views, fake } = await run('vote', { question: 'Yes or no?', voters: 3 }, () => {
      const n = i++
      return { text: n === 2 ? 'No' : 'Yes', latencyMs: n === 2 ? 2_000 : 10 * n, ignoreN: true }
    })
    await handle.done
    expect(views.at(-1)?.final?.markdown).toBe('*Yes*\n2 of 2 answers agree; 1 not needed.')
    expect(fake.requests.map((r) => r.body.n)).toEqual([3, undefined, undefined])
    await expect.poll(() => fake.requests[2]?.aborted).toBe(true)
  })

  it('gives the plurality of closed-form answers without a judge when no strict majority forms', async () => {
    const { handle, views, fake } = await run(
      'vote',
      { question: 'Pick a letter', voters: 5 },
      batch(['A', 'B', '(a)', 'C', 'B'], [5, 10, 15, 20, 25]),
    )
    await handle.done
    expect(views.at(-1)?.final?.markdown).toBe(
      '*A*\n2 of 5 answers agree.\n_No answer had a majority; this is the most common one._\nOther answers: B (2), C (1)',
    )
    expect(fake.requests).toHaveLength(1)
  })

  it('asks a judge for free-form answers without a majority, and says a judge chose', async () => {
    const { handle, views, fake } = await run(
      'vote',
      { question: 'Best lunch?', voters: 5 },
      batch(['soup', 'salad', 'soup', 'pizza', 'salad'], [5, 10, 15, 20, 25], '{"response": 2}'),
    )
    await handle.done
    expect(views.at(-1)?.final?.markdown).toBe(
      [
        '*salad*',
        'most common: soup, 2 of 5 answers agree.',
        '_No answer had a majority, so a judge model picked the one most consistent with the others._',
        'Other answers: salad (2), pizza (1)',
      ].join('\n'),
    )
    expect(fake.requests).toHaveLength(2)
    expect(fake.requests[1]?.prompt).toContain('Response 5:\nsalad')
  })

  it('says so when the judge’s reply cannot be read, rather than claim a judgement', async () => {
    const { handle, views } = await run(
      'vote',
      { question: 'Best lunch?', voters: 3 },
      batch(['soup', 'salad', 'pizza'], [5, 10, 15], 'Of the 3 responses, all differ.'),
    )
    await handle.done
    const text = views.at(-1)?.final?.markdown ?? ''
    expect(text).toMatch(
      /^\*soup\*\n1 of 3 answers agrees\.\n_No answer had a majority and the judge could not decide/,
    )
  })

  it('reports unreadable answers and never lets them win', async () => {
    const { handle, views } = await run(
      'vote',
      { question: 'Capital of France?', voters: 5 },
      batch(['...', '?', 'Paris', '**', ''], [5, 10, 15, 20, 25]),
    )
    await handle.done
    expect(views.at(-1)?.final?.markdown).toBe(
      '*Paris*\n1 of 5 answers agrees; 4 unreadable.\n_No answer had a majority; this is the most common one._',
    )
  })

  it('tallies answers whose choices stream split in the middle and interleaved (issue 16, 60 orders)', async () => {
    // The two samplings: four ways of writing Paris and one other answer, each choice sent as
    // pieces (`PAR` + `IS!`), its finish apart or with its last piece, the choices interleaved by seed.
    const sets = [
      { texts: ['PARIS!', 'The answer is Paris', '«Paris»', '- Nice', '**Paris**'], other: 'Nice' },
      { texts: ['The answer is Paris', '- Paris', 'marseille.', 'paris.', 'paris.'], other: 'marseille' },
    ]
    const scripts = new Map<string, { texts: string[]; other: string; chunks: FakeChunk[] }>()
    const script = (question: string) => {
      const rand = mulberry32(hash(question))
      const set = sets[hash(question) % 2] as (typeof sets)[number]
      const texts = set.texts
        .map((text) => ({ text, key: rand() }))
        .sort((a, b) => a.key - b.key)
        .map(({ text }) => text)
      const made = { texts, other: set.other, chunks: interleaved(texts, rand) }
      scripts.set(question, made)
      return made
    }
    const handler: Handler = (body) => ({ chunks: script(body.messages.at(-1)?.content ?? '').chunks })
    const { bot, handle } = await run('vote', { question: 'q0', voters: 5 }, handler)
    const finals = [await handle.done]
    const command = bot.command('vote')
    if (command === undefined) throw new Error('no vote')
    for (let seed = 1; seed < 60; seed++) {
      const next = bot.start({
        command,
        input: { question: `q${seed}`, voters: 5 },
        user: 'U1',
        platform: 'console',
        minIntervalMs: 0,
        sink: { show: async () => {} },
      })
      finals.push(await next.done)
    }
    const wrong: string[] = []
    finals.forEach((result, seed) => {
      const { texts, other, chunks } = scripts.get(`q${seed}`) ?? { texts: [], other: '', chunks: [] }
      const order = chunks.flatMap((c) => c.choices.filter((x) => x.finish).map((x) => texts[x.index]))
      const winner = extractAnswer(order.find((t) => !t?.includes(other)) ?? '')
      // Three Paris end the vote: after three answers, or after four when the other came among them.
      const expected =
        order.findIndex((t) => t?.includes(other)) < 3
          ? `*${winner}*\n3 of 4 answers agree; 1 not needed.\nOther answers: ${other} (1)`
          : `*${winner}*\n3 of 3 answers agree; 2 not needed.`
      if (result.output !== expected) wrong.push(`q${seed}: ${JSON.stringify(result.output)} for ${expected}`)
    })
    expect(wrong).toEqual([])
  })

  it('counts the choices of a server that ignores stream and sends one whole completion', async () => {
    const { handle, views, fake } = await run('vote', { question: 'Capital of France?', voters: 5 }, () => ({
      texts: ['Paris', 'paris.', 'Lyon', '**Paris**', 'Paris'],
      ignoreStream: true,
    }))
    expect((await handle.done).status).toBe('completed')
    expect(views.at(-1)?.final?.markdown).toBe(
      '*Paris*\n3 of 4 answers agree; 1 not needed.\nOther answers: Lyon (1)',
    )
    expect(fake.requests.map((r) => [r.body.n, r.body.stream])).toEqual([[5, true]])
  })

  it('Stop closes the sampling stream at the server', async () => {
    const { bot, handle, fake } = await run('vote', { question: 'q', voters: 3 }, () => ({ hang: true }))
    await fake.waitForRequests(1)
    bot.get(handle.runId)?.cancel('Ada')
    expect((await handle.done).status).toBe('cancelled')
    await expect.poll(() => fake.requests[0]?.aborted).toBe(true)
  })
})
