import type { DeliveredView, RunRecord, StepEntry, StepTiming } from '../../store/index.ts'
import { duration, esc, when } from './html.ts'

/** One step call in the waterfall. */
export interface Lane {
  step: string
  call: number
  status: 'ok' | 'failed' | 'cancelled'
  timing: StepTiming | undefined
  /** The error code of a failure, or why it was cancelled. */
  why?: string | undefined
}

/** A run's step calls (failures and cancelled ones included), in the order they started. */
export function lanesOf(run: RunRecord, steps: StepEntry[], hidden: ReadonlySet<string>): Lane[] {
  const lanes: Lane[] = steps
    .filter((s) => !hidden.has(s.step))
    .map((s) => ({
      step: s.step,
      call: s.call,
      status: s.ok ? 'ok' : 'failed',
      timing: s.timing,
      ...(s.ok ? {} : { why: s.error }),
    }))
  for (const c of run.summary?.cancelled ?? [])
    lanes.push({ step: c.step, call: c.call, status: 'cancelled', timing: c, why: c.cancelled })
  const start = (l: Lane) => l.timing?.startedAt ?? Number.POSITIVE_INFINITY
  return lanes.sort((a, b) => start(a) - start(b) || a.call - b.call || (a.step < b.step ? -1 : 1))
}

const VIEW_NAMES: Record<DeliveredView, string> = {
  placeholder: 'placeholder',
  first: 'first',
  final: 'final',
}

/**
 * The waterfall: a row from acceptance to a worker taking the run, a bar per step call (its wait for a
 * model slot lighter, its first token a tick, retries and the reason it failed or was cancelled beside
 * it), and the moments each view reached the user.
 */
export function waterfall(run: RunRecord, lanes: Lane[], now: number): string {
  const t0 = run.createdAt
  const ends = [run.status === 'running' ? now : run.updatedAt]
  for (const l of lanes) if (l.timing !== undefined) ends.push(l.timing.finishedAt)
  for (const at of Object.values(run.deliveredAt)) ends.push(at)
  const span = Math.max(1, ...ends.map((e) => e - t0))
  const pct = (ms: number) => `${Math.min(100, Math.max(0, (ms / span) * 100)).toFixed(2)}%`
  const firstStart = lanes.find((l) => l.timing !== undefined)?.timing?.startedAt
  const picked = run.summary?.startedAt ?? firstStart
  const rows: string[] = []
  if (picked !== undefined) {
    const bar = `<div class="bar wait" style="left:0;width:${pct(picked - t0)}"></div>`
    rows.push(laneRow('queued', 'queue', bar, `queued ${duration(picked - t0)}`, `accepted ${when(t0)}`))
  }
  for (const lane of lanes) rows.push(stepRow(lane, t0, pct))
  // Labels near the right edge go left of their line; every other one drops a line, so close views stay legible.
  const marks = Object.entries(run.deliveredAt)
    .map(([view, at], i) => {
      const classes = ['view', (at - t0) / span > 0.8 ? 'late' : '', i % 2 === 1 ? 'odd' : ''].filter(
        (c) => c !== '',
      )
      const title = esc(`${view} shown ${when(at)}`)
      return `<div class="${classes.join(' ')}" data-view="${esc(view)}" style="left:${pct(at - t0)}" title="${title}"><b>${esc(VIEW_NAMES[view as DeliveredView] ?? view)}</b></div>`
    })
    .join('')
  const seen = Object.entries(run.deliveredAt)
    .map(([view, at]) => `${view} +${duration(at - t0)}`)
    .join(' · ')
  rows.push(laneRow('views shown', 'views', marks, seen, 'when each view reached the user'))
  const axis = [0, 0.25, 0.5, 0.75, 1].map((f) => `<span>${esc(duration(f * span))}</span>`).join('')
  const note = run.status === 'running' ? '<p class="muted">Step calls show here as they settle.</p>' : ''
  return `${note}<div class="wf" id="waterfall">${rows.join('\n')}<div class="axis">${axis}</div></div>
<div class="legend"><i style="background:var(--ok)"></i>completed<i style="background:var(--bad)"></i>failed<i style="background:var(--stop)"></i>cancelled<i style="background:#d1d5db"></i>queued / waiting for a model slot (lighter)<i style="background:#f59e0b"></i>first token<i style="background:#7c3aed"></i>view shown</div>`
}

function stepRow(lane: Lane, t0: number, pct: (ms: number) => string): string {
  const t = lane.timing
  const label = lane.call > 1 ? `${lane.step} #${lane.call}` : lane.step
  if (t === undefined)
    return laneRow(
      label,
      lane.step,
      '',
      `${lane.status} · no timing (resumed or journaled before timings)`,
      '',
    )
  const length = Math.max(0, t.finishedAt - t.startedAt)
  const inner = length === 0 ? 0 : Math.min(100, (t.queuedMs / length) * 100)
  const tick =
    t.firstTokenAt === undefined
      ? ''
      : `<div class="tick" title="${esc(`first token ${when(t.firstTokenAt)}`)}" style="left:${pct(t.firstTokenAt - t0)}"></div>`
  const bar = `<div class="bar ${lane.status === 'ok' ? '' : lane.status}" style="left:${pct(t.startedAt - t0)};width:${pct(length)}"><span class="queued" style="width:${inner.toFixed(1)}%"></span></div>${tick}`
  // What went wrong first: the column is cut at its width.
  const meta = [duration(length)]
  if (lane.why !== undefined) meta.push(lane.status === 'cancelled' ? `cancelled: ${lane.why}` : lane.why)
  if (t.attempts > 1) meta.push(`${t.attempts} tries (${(t.retries ?? []).join(', ')})`)
  if (t.firstTokenAt !== undefined) meta.push(`1st token +${duration(t.firstTokenAt - t.startedAt)}`)
  if (t.queuedMs > 0) meta.push(`slot wait ${duration(t.queuedMs)}`)
  const title = `${label}: started ${when(t.startedAt)}, finished ${when(t.finishedAt)}`
  return laneRow(label, lane.step, bar, meta.join(' · '), title, lane.status)
}

function laneRow(
  label: string,
  key: string,
  track: string,
  meta: string,
  title: string,
  status = '',
): string {
  return `<div class="row" data-lane="${esc(key)}" data-status="${esc(status)}" title="${esc(title)}"><div class="name">${esc(label)}</div><div class="track">${track}</div><div class="meta">${esc(meta)}</div></div>`
}
