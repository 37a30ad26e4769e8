/**
 * The same fan-out (N zero-latency steps, then a join that sees every output) in Chorus and in
 * LangGraph JS, in one process. `npm run bench:peers` prints a Markdown table.
 */
import { Annotation, END, START, StateGraph } from '@langchain/langgraph'
import { z } from 'zod'
import { all, defineFlow, runFlow } from '../src/engine/index.ts'

function chorus(n: number): () => Promise<number> {
  const flow = defineFlow({
    name: 'fan',
    description: 'bench',
    input: z.object({}),
    build(f) {
      const steps = Array.from({ length: n }, (_, i) => f.start(`s${i}`, async () => i))
      return { final: f.listen(all(steps), 'join', (xs) => xs.length) }
    },
  })
  return async () => (await runFlow(flow, {}).result).output as number
}

function langgraph(n: number): () => Promise<number> {
  const State = Annotation.Root({
    outputs: Annotation<number[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    total: Annotation<number>(),
  })
  // LangGraph's builder types track node names literally; a loop-built graph needs the loose type.
  // biome-ignore lint/suspicious/noExplicitAny: see above
  const g: any = new StateGraph(State)
  const names = Array.from({ length: n }, (_, i) => `s${i}`)
  for (const [i, name] of names.entries()) g.addNode(name, async () => ({ outputs: [i] }))
  g.addNode('join', async (s: { outputs: number[] }) => ({ total: s.outputs.length }))
  for (const name of names) g.addEdge(START, name)
  g.addEdge(names, 'join')
  g.addEdge('join', END)
  const app = g.compile()
  return async () => ((await app.invoke({})) as { total: number }).total
}

async function perRun(fn: () => Promise<number>, n: number, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(50, iterations); i++)
    if ((await fn()) !== n) throw new Error('wrong join result')
  const t0 = performance.now()
  for (let i = 0; i < iterations; i++) await fn()
  return (performance.now() - t0) / iterations
}

const fmt = (ms: number): string => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`)

console.log(`Node ${process.version}\n`)
console.log('| N steps → join | Chorus | LangGraph JS | ratio |')
console.log('|---|---|---|---|')
for (const n of [5, 20, 100]) {
  const iterations = n === 100 ? 100 : 400
  const c = await perRun(chorus(n), n, iterations * 5)
  const l = await perRun(langgraph(n), n, iterations)
  console.log(`| ${n} | ${fmt(c)} | ${fmt(l)} | ${(l / c).toFixed(0)}× |`)
}
