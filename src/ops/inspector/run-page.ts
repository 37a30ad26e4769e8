import type { FlowNode } from '../../engine/index.ts'
import type { QuestionRecord, RunRecord, StepEntry } from '../../store/index.ts'
import { runDurationMs, statusText, traceIdOf, whereOf } from './facts.ts'
import { graphView, type StepStates } from './graph.ts'
import { duration, esc, usd, when } from './html.ts'
import { questionsView } from './questions.ts'
import { lanesOf, waterfall } from './waterfall.ts'

/** A step's output is cut to this many characters on the page. */
const MAX_OUTPUT_CHARS = 20_000

export interface RunPageData {
  run: RunRecord
  steps: StepEntry[]
  questions: QuestionRecord[]
  /** The flow's graph for the run's input; undefined when the flow is gone or no longer takes it. */
  graph: { nodes: FlowNode[]; mermaid: string } | { error: string }
  /** The journal's copy of the final reply (kept for Refine): shown as an output, not a step. */
  finalStep: string
  /** CHORUS_TRACE_URL: a link with `{traceId}` in it. */
  traceUrl: string | undefined
  now: number
}

/** One run: what it was, its graph, its waterfall, the views shown and each branch's output. */
export function runPage(d: RunPageData): string {
  const { run, steps } = d
  const lanes = lanesOf(run, steps, new Set([d.finalStep]))
  const states = new Map<string, { status: 'ok' | 'failed' | 'cancelled'; calls: number }>()
  for (const lane of lanes) {
    const calls = Math.max(lane.call, states.get(lane.step)?.calls ?? 0)
    states.set(lane.step, { status: lane.status, calls })
  }
  const graph =
    'error' in d.graph
      ? `<p class="muted">${esc(d.graph.error)}</p>`
      : `${graphView(d.graph.nodes, states as StepStates)}
<details><summary>Mermaid (as <code>npm run plot</code> draws it)</summary><pre>${esc(d.graph.mermaid)}</pre></details>`
  return `<h1>${esc(run.command)} <span class="badge ${esc(run.status)}">${esc(statusText(run))}</span>
<span class="muted" style="font-size:13px">${esc(run.id)}</span></h1>
${facts(d)}
<h2>Input</h2><pre id="input">${esc(JSON.stringify(run.input, null, 2))}</pre>
<h2>Flow</h2>${graph}
<h2>Waterfall</h2>${waterfall(run, lanes, d.now)}
<h2>Views the user saw</h2>${views(run)}
${questionsView(d.questions)}
<h2>Outputs</h2><div id="outputs">${outputs(steps, d.finalStep)}</div>`
}

function facts(d: RunPageData): string {
  const { run } = d
  const s = run.summary
  const rows: Array<[string, string]> = [
    ['flow', run.command],
    ['who', run.userId === undefined || run.userId === run.user ? run.user : `${run.user} (${run.userId})`],
    ['where', whereOf(run.target)],
    ['status', statusText(run)],
    ['accepted', when(run.createdAt)],
    ['duration', duration(runDurationMs(run, d.now))],
  ]
  if (s?.startedAt !== undefined) rows.push(['worked from', when(s.startedAt)])
  if (run.status !== 'running') rows.push(['ended', when(run.updatedAt)])
  if (run.note !== undefined) rows.push(['note', run.note])
  if (run.stoppedBy !== undefined) rows.push(['stopped by', run.stoppedBy])
  if (run.wakes > 0) rows.push(['woken', `${run.wakes} times by answers or deadlines`])
  if (s !== undefined) {
    rows.push([
      'tokens',
      `${s.tokens} (${s.promptTokens} prompt, ${s.completionTokens} completion) in ${s.calls} calls`,
    ])
    rows.push(['models', s.models.join(', ')])
    if (s.costUsd !== undefined) rows.push(['cost', `${usd(s.costUsd)} (estimate)`])
  }
  rows.push(['feedback', `${run.feedback.up} up · ${run.feedback.down} down`])
  const cells = rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`)
  const traceId = traceIdOf(run.traceparent)
  const link =
    traceId === undefined || d.traceUrl === undefined
      ? undefined
      : d.traceUrl.replaceAll('{traceId}', traceId)
  if (link !== undefined && /^https?:\/\//i.test(link))
    cells.push(
      `<dt>trace</dt><dd><a id="trace" href="${esc(link)}" rel="noreferrer" target="_blank">${esc(traceId)}</a></dd>`,
    )
  else if (traceId !== undefined) cells.push(`<dt>trace</dt><dd>${esc(traceId)}</dd>`)
  return `<dl class="facts" id="facts">${cells.join('')}</dl>`
}

function views(run: RunRecord): string {
  if (run.delivered.length === 0) return '<p class="muted">No view reached the user.</p>'
  const rows = run.delivered.map((view) => {
    const at = run.deliveredAt[view]
    const after = at === undefined ? '' : `+${duration(at - run.createdAt)}`
    return `<tr data-view="${esc(view)}"><td>${esc(view)}</td><td>${esc(when(at))}</td><td class="num">${esc(after)}</td></tr>`
  })
  return `<table id="views"><thead><tr><th>view</th><th>shown (UTC)</th><th class="num">after acceptance</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function outputs(steps: StepEntry[], finalStep: string): string {
  if (steps.length === 0) return '<p class="muted">No step has finished.</p>'
  return steps
    .map((s) => {
      const name =
        s.step === finalStep
          ? 'final reply (as journaled for Refine)'
          : s.call > 1
            ? `${s.step} #${s.call}`
            : s.step
      const text = s.ok ? (typeof s.value === 'string' ? s.value : JSON.stringify(s.value, null, 2)) : s.error
      const cut =
        text.length > MAX_OUTPUT_CHARS
          ? `${text.slice(0, MAX_OUTPUT_CHARS)}\n… (${text.length} characters)`
          : text
      const took = s.timing === undefined ? '' : ` · ${duration(s.timing.finishedAt - s.timing.startedAt)}`
      return `<details open data-output="${esc(s.step)}"><summary>${s.ok ? '✓' : '✗'} ${esc(name)}${esc(took)}</summary><pre>${esc(cut)}</pre></details>`
    })
    .join('\n')
}
