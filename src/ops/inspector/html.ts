/**
 * The inspector's HTML: every value it shows (prompts, model answers, names) goes through `esc`,
 * and the page allows no script but its own (a nonce) and no outside resource at all.
 */

/** Escapes text for HTML content and quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

/** The Content-Security-Policy of a page whose one inline script carries `nonce`. */
export function policy(nonce: string): string {
  return [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    `script-src 'nonce-${nonce}'`,
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
}

const STYLE = `
:root { color-scheme: light; --ok: #2e7d32; --bad: #c62828; --stop: #8d6e63; --run: #1565c0; --mute: #6b7280; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #111827; background: #f7f7f9; }
header { background: #111827; color: #fff; padding: 10px 20px; display: flex; gap: 16px; align-items: baseline; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
header span { color: #9ca3af; }
main { padding: 16px 20px 40px; max-width: 1280px; }
h1 { font-size: 20px; margin: 4px 0 12px; } h2 { font-size: 16px; margin: 24px 0 8px; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { font-weight: 600; color: #374151; background: #f3f4f6; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
a { color: #1d4ed8; }
.badge { display: inline-block; padding: 0 7px; border-radius: 9px; font-size: 12px; color: #fff; background: var(--mute); }
.badge.completed { background: var(--ok); } .badge.failed, .badge.abandoned { background: var(--bad); }
.badge.stopped { background: var(--stop); } .badge.running { background: var(--run); }
.muted { color: var(--mute); }
form.filters { display: flex; gap: 10px; align-items: end; margin-bottom: 12px; flex-wrap: wrap; }
form.filters label { display: flex; flex-direction: column; font-size: 12px; color: #374151; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: #fff; padding: 12px; margin: 0; }
dl.facts dt { color: #374151; font-weight: 600; } dl.facts dd { margin: 0; }
pre { white-space: pre-wrap; word-break: break-word; background: #fff; border: 1px solid #e5e7eb; padding: 10px; margin: 6px 0; max-height: 420px; overflow: auto; }
details { background: #fff; border: 1px solid #e5e7eb; padding: 6px 10px; margin: 6px 0; }
summary { cursor: pointer; }
.wf { background: #fff; padding: 10px 12px; border: 1px solid #e5e7eb; }
.wf .row { display: grid; grid-template-columns: 170px 1fr 380px; gap: 10px; align-items: center; height: 26px; }
.wf .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.wf .track { position: relative; height: 16px; background: repeating-linear-gradient(90deg, #f3f4f6 0 1px, transparent 1px 10%); }
.wf .bar { position: absolute; top: 2px; height: 12px; min-width: 2px; border-radius: 2px; background: var(--ok); }
.wf .bar.failed { background: var(--bad); } .wf .bar.cancelled { background: var(--stop); }
.wf .bar.running { background: var(--run); } .wf .bar.wait { background: #d1d5db; }
.wf .bar .queued { position: absolute; left: 0; top: 0; bottom: 0; background: rgba(255,255,255,.55); }
.wf .tick { position: absolute; top: -1px; width: 2px; height: 18px; background: #f59e0b; }
.wf .view { position: absolute; top: -2px; width: 2px; height: 20px; background: #7c3aed; }
.wf .view b { position: absolute; top: -6px; left: 4px; font-size: 11px; color: #7c3aed; white-space: nowrap; }
.wf .view.late b { left: auto; right: 4px; } .wf .view.odd b { top: 8px; }
.wf .meta { font-size: 12px; color: #374151; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.wf .axis { display: flex; justify-content: space-between; font-size: 11px; color: var(--mute); margin-left: 180px; margin-right: 390px; }
.legend { font-size: 12px; color: var(--mute); margin-top: 6px; }
.legend i { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; vertical-align: -1px; }
.graph { display: flex; gap: 28px; overflow-x: auto; background: #fff; border: 1px solid #e5e7eb; padding: 12px; }
.graph .layer { display: flex; flex-direction: column; gap: 10px; justify-content: center; }
.graph .node { border: 1px solid #9ca3af; border-radius: 6px; padding: 6px 10px; min-width: 150px; background: #fafafa; }
.graph .node.output { border-width: 3px; } .graph .node.router { border-style: dashed; }
.graph .node.ok { border-color: var(--ok); } .graph .node.failed { border-color: var(--bad); }
.graph .node.cancelled { border-color: var(--stop); }
.graph .node small { display: block; color: var(--mute); }
`

/** A whole page: `body` is HTML already escaped by its maker. */
export function page(title: string, body: string, nonce: string, script = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${esc(title)} · Chorus</title><style>${STYLE}</style></head>
<body><header><a href="/runs">Chorus runs</a><span>run inspector</span></header>
<main>${body}</main>${script === '' ? '' : `<script nonce="${esc(nonce)}">${script}</script>`}</body></html>`
}

/** `2026-12-03 15:13:38Z` (UTC, to the second). */
export function when(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return ''
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`
}

/** `850 ms`, `1.2 s`, `2 m 05 s`, `3 h 04 m`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return ''
  if (ms < 1_000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`
  const s = Math.round(ms / 1_000)
  if (s < 3_600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`
  return `${Math.floor(s / 3_600)} h ${String(Math.floor(s / 60) % 60).padStart(2, '0')} m`
}

/** `$0.0012`; empty when unknown. */
export function usd(cost: number | undefined): string {
  if (cost === undefined) return ''
  return cost === 0 ? '$0' : cost < 0.01 ? `$${cost.toPrecision(2)}` : `$${cost.toFixed(2)}`
}
