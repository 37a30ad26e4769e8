import type { RecentFilter, RunRecord } from '../../store/index.ts'
import { PLATFORMS, runDurationMs, STATUSES, statusText, whereOf } from './facts.ts'
import { duration, esc, usd, when } from './html.ts'

/** The list's size unless `?limit=` says otherwise. */
export const DEFAULT_LIMIT = 50

/** What `/runs?flow=…&status=…&platform=…&limit=…` asks for; values that are not choices are ignored. */
export function listQuery(url: URL, flows: readonly string[]): { filter: RecentFilter; limit: number } {
  const q = url.searchParams
  const flow = q.get('flow') ?? ''
  const status = q.get('status') ?? ''
  const platform = q.get('platform') ?? ''
  const limit = Number(q.get('limit') ?? DEFAULT_LIMIT)
  return {
    filter: {
      ...(flows.includes(flow) ? { command: flow } : {}),
      ...((STATUSES as readonly string[]).includes(status)
        ? { status: status as RecentFilter['status'] }
        : {}),
      ...((PLATFORMS as readonly string[]).includes(platform)
        ? { platform: platform as RecentFilter['platform'] }
        : {}),
    },
    limit: Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : DEFAULT_LIMIT,
  }
}

function select(name: string, label: string, choices: readonly string[], chosen: string | undefined): string {
  const options = ['', ...choices]
    .map(
      (c) =>
        `<option value="${esc(c)}"${c === (chosen ?? '') ? ' selected' : ''}>${esc(c === '' ? 'any' : c)}</option>`,
    )
    .join('')
  return `<label>${esc(label)}<select name="${esc(name)}" data-autosubmit>${options}</select></label>`
}

function row(run: RunRecord, now: number): string {
  const s = run.summary
  const rating =
    run.feedback.up + run.feedback.down === 0 ? '' : `👍 ${run.feedback.up} · 👎 ${run.feedback.down}`
  return `<tr data-run="${esc(run.id)}">
<td><a href="/runs/${encodeURIComponent(run.id)}">${esc(when(run.createdAt))}</a></td>
<td>${esc(run.command)}</td><td>${esc(run.user)}</td><td>${esc(whereOf(run.target))}</td>
<td><span class="badge ${esc(run.status)}">${esc(statusText(run))}</span></td>
<td class="num">${esc(duration(runDurationMs(run, now)))}</td>
<td class="num">${s === undefined ? '' : esc(s.tokens.toLocaleString('en'))}</td>
<td class="num">${esc(usd(s?.costUsd))}</td><td>${esc(rating)}</td></tr>`
}

/** The recent runs, newest first, with their filters. */
export function listPage(
  runs: RunRecord[],
  query: { filter: RecentFilter; limit: number },
  flows: readonly string[],
  now: number,
): string {
  const f = query.filter
  const form = `<form class="filters" method="get" action="/runs">
${select('flow', 'flow', flows, f.command)}${select('status', 'status', STATUSES, f.status)}${select('platform', 'platform', PLATFORMS, f.platform)}
<label>limit<input name="limit" type="number" min="1" max="500" value="${query.limit}"></label>
<button type="submit">Show</button></form>`
  const rows = runs.map((r) => row(r, now)).join('\n')
  const empty = runs.length === 0 ? '<p class="muted">No runs match.</p>' : ''
  return `<h1>Recent runs</h1>${form}
<table id="runs"><thead><tr><th>accepted (UTC)</th><th>flow</th><th>who</th><th>where</th><th>status</th>
<th class="num">duration</th><th class="num">tokens</th><th class="num">cost</th><th>👍/👎</th></tr></thead>
<tbody>${rows}</tbody></table>${empty}
<p class="muted">${runs.length} run${runs.length === 1 ? '' : 's'}; the journal keeps ended runs for 7 days.</p>`
}

/** Choosing a filter shows its runs at once (the form still works without script). */
export const LIST_SCRIPT = `for (const s of document.querySelectorAll('[data-autosubmit]')) s.addEventListener('change', () => s.form.submit())`
