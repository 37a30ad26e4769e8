/**
 * /vote quality and cost: thousands of votes in-process through the real flow, bot and `openai` SDK
 * against the fake OpenAI server (a model right with probability p, in eight surface forms), with and
 * without `n` support. Prints measured accuracy ± standard error beside the exact theory (enumerated),
 * requests and tokens per vote, and the normaliser's wrong merges and splits on its test tables.
 * `npm run bench:vote` (alias `bench:quality`); paste the table into README.md.
 */
import { pino } from 'pino'
import { Bot, loadConfig } from '../src/bot/index.ts'
import { hash, mulberry32, normalizeAnswer, OpenAIModel } from '../src/llm/index.ts'
import { type ChatBody, type FakeReply, startFakeOpenAI } from '../test/fakes/openai.ts'
import { MUST_MERGE, MUST_STAY_APART } from '../test/llm/normalize-cases.ts'

interface Scenario {
  name: string
  /** The answers: the first is right. */
  options: string[]
  p: number
  k: number
}

const SCENARIOS: Scenario[] = [
  { name: 'yes/no, p = 0.6', options: ['Yes', 'No'], p: 0.6, k: 5 },
  { name: 'yes/no, p = 0.4', options: ['Yes', 'No'], p: 0.4, k: 5 },
  { name: 'letters A–D, p = 0.6', options: ['B', 'A', 'C', 'D'], p: 0.6, k: 5 },
  { name: 'numbers, two options, p = 0.6', options: ['1000', '2000'], p: 0.6, k: 9 },
  {
    name: 'cities (free text, judge on no majority), p = 0.6',
    options: ['Paris', 'Lyon', 'Nice', 'Lille'],
    p: 0.6,
    k: 5,
  },
]
const VOTES = Number(process.env.BENCH_VOTES ?? 2000)
const PARALLEL = 32

/** Eight ways a model writes one answer. */
function surface(answer: string, rand: () => number): string {
  const a = /^\d+$/.test(answer)
    ? ([
        answer,
        Number(answer).toLocaleString('en-US'),
        `${answer}.0`,
        answer.replace(/(\d)(\d{3})$/, '$1 $2'),
      ][Math.floor(rand() * 4)] as string)
    : answer
  const forms = [
    a,
    `${a.toLowerCase()}.`,
    `**${a}**`,
    `The answer is ${a}`,
    `Answer: ${a}`,
    `Sure.\n${a}`,
    `- ${a}`,
    `«${a}»`,
  ]
  return forms[Math.floor(rand() * forms.length)] as string
}

/** One sampled answer: right with probability p, else a uniformly drawn wrong option. */
function draw(s: Scenario, rand: () => number): string {
  if (rand() < s.p) return s.options[0] as string
  return s.options[1 + Math.floor(rand() * (s.options.length - 1))] as string
}

/** Exact plurality accuracy with a uniform tie-break, by enumerating every answer pattern. */
function theory(s: Scenario): number {
  const m = s.options.length
  const q = (1 - s.p) / (m - 1)
  let total = 0
  for (let pattern = 0; pattern < m ** s.k; pattern++) {
    const counts = new Array<number>(m).fill(0)
    let weight = 1
    for (let i = 0, x = pattern; i < s.k; i++, x = Math.floor(x / m)) {
      const o = x % m
      counts[o] = (counts[o] as number) + 1
      weight *= o === 0 ? s.p : q
    }
    const top = Math.max(...counts)
    if (counts[0] === top) total += weight / counts.filter((c) => c === top).length
  }
  return total
}

/** A fair USC judge: names the response most others share (first listed on a tie). */
function judge(prompt: string): string {
  const keys = [...prompt.matchAll(/^Response (\d+):\n(.*)$/gm)].map((m) => normalizeAnswer(m[2] as string))
  let best = 0
  for (let i = 0; i < keys.length; i++)
    if (keys.filter((k) => k === keys[i]).length > keys.filter((k) => k === keys[best]).length) best = i
  return JSON.stringify({ response: best + 1 })
}

async function measure(s: Scenario, honoursN: boolean) {
  const calls = new Map<string, number>()
  const handler = (body: ChatBody): FakeReply => {
    const prompt = body.messages.at(-1)?.content ?? ''
    if (body.response_format !== undefined) return { text: judge(prompt) }
    const seen = calls.get(prompt) ?? 0
    calls.set(prompt, seen + 1)
    const rand = mulberry32(hash(prompt) ^ Math.imul(seen + 1, 0x9e3779b1))
    const n = honoursN ? (body.n ?? 1) : 1
    const texts = Array.from({ length: n }, () => surface(draw(s, rand), rand))
    // Each answer takes 10–50 ms to generate, so an early stop has something to save.
    return honoursN
      ? { texts, choiceLatencyMs: texts.map(() => 10 + rand() * 40) }
      : { texts, latencyMs: 10 + rand() * 40, ignoreN: true }
  }
  const fake = await startFakeOpenAI({ handler })
  const model = new OpenAIModel({ apiKey: 'sk-bench', baseURL: fake.url, model: 'fake', timeoutMs: 30_000 })
  const bot = await Bot.create({
    config: loadConfig({ CHORUS_CONCURRENCY: '256' }),
    model,
    logger: pino({ level: 'silent' }),
  })
  const command = bot.command('vote')
  if (command === undefined) throw new Error('no /vote')
  const gold = normalizeAnswer(s.options[0] as string)
  let right = 0
  let judged = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < VOTES) {
      const i = next++
      const handle = bot.start({
        command,
        input: { question: `Q${i} (${s.name}): which one?`, voters: s.k },
        user: `U${i % 50}`,
        platform: 'console',
        minIntervalMs: 0,
        sink: { show: async () => {} },
      })
      const result = await handle.done
      const text = String(result.output ?? '')
      if (text.includes('a judge model picked')) judged++
      if (normalizeAnswer(/^\*(.*)\*$/m.exec(text)?.[1] ?? '') === gold) right++
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker))
  const sum = (f: (r: (typeof fake.requests)[number]) => number): number =>
    fake.requests.reduce((a, r) => a + f(r), 0) / VOTES
  const voteRequests = fake.requests.filter((r) => r.body.response_format === undefined)
  const out = {
    accuracy: right / VOTES,
    requests: fake.requests.length / VOTES,
    judge: (fake.requests.length - voteRequests.length) / VOTES,
    promptTokens: sum((r) => r.promptTokens),
    completionTokens: sum((r) => r.completionTokens),
    answers: voteRequests.reduce((a, r) => a + r.choicesSent, 0) / VOTES,
    judged: judged / VOTES,
  }
  await fake.close()
  return out
}

const f = (x: number, d = 2): string => x.toFixed(d)
const rows: string[] = []
let within = true
for (const s of SCENARIOS) {
  const exact = theory(s)
  const withN = await measure(s, true)
  const withoutN = await measure(s, false)
  for (const [mode, m] of [
    ['n honoured', withN],
    ['n ignored', withoutN],
  ] as const) {
    const se = Math.sqrt((exact * (1 - exact)) / VOTES)
    const z = (m.accuracy - exact) / se
    if (Math.abs(z) > 3) within = false
    rows.push(
      `| ${s.name}, k = ${s.k} | ${mode} | ${f(m.accuracy, 3)} ± ${f(se, 3)} | ${f(exact, 4)} | ${f(z, 1)} | ` +
        `${f(m.answers)} | ${f(m.requests)} | ${f(m.judge)} | ${f(m.promptTokens, 0)} | ${f(m.completionTokens, 1)} |`,
    )
  }
  rows.push(
    `| | prompt tokens with n / without | ${f(withN.promptTokens / withoutN.promptTokens, 2)} | | | | | | | |`,
  )
}

const keyed = (a: string, b: string): boolean => normalizeAnswer(a) === normalizeAnswer(b)
const wrongMerges = MUST_STAY_APART.filter(([a, b]) => keyed(a, b))
const pairs = MUST_MERGE.flatMap((g) => g.slice(1).map((x) => [g[0] as string, x] as const))
const wrongSplits = pairs.filter(([a, b]) => !keyed(a, b))

console.log(`${VOTES} votes per row, through the /vote flow, the bot and the openai SDK over HTTP.\n`)
console.log(
  '| scenario | server | accuracy ± SE | exact theory | z | answers received | requests | judge calls | prompt tokens | completion tokens |',
)
console.log('|---|---|---|---|---|---|---|---|---|---|')
for (const r of rows) console.log(r)
console.log(
  `\nNormaliser tables: ${wrongMerges.length} wrong merges of ${MUST_STAY_APART.length} pairs that must stay apart; ` +
    `${wrongSplits.length} wrong splits of ${pairs.length} pairs that must merge.`,
)
for (const [a, b] of [...wrongMerges, ...wrongSplits])
  console.log(`  ${JSON.stringify(a)} / ${JSON.stringify(b)}`)
console.log(
  within ? 'Every scenario is within 3 SE of theory.' : 'SOME SCENARIO IS MORE THAN 3 SE FROM THEORY.',
)
