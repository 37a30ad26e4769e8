import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { FINAL_STEP } from '../../bot/index.ts'
import { type AnyFlow, flowNodes, toMermaid } from '../../engine/index.ts'
import type { RunRecord, RunStore } from '../../store/index.ts'
import { InspectorAuth } from './auth.ts'
import { esc, page, policy } from './html.ts'
import { LIST_SCRIPT, listPage, listQuery } from './list.ts'
import { type RunPageData, runPage } from './run-page.ts'

export interface InspectorOptions {
  /** CHORUS_INSPECTOR_TOKEN. */
  token: string
  /** The run journal: runs worked by any process sharing it. */
  store: Pick<RunStore, 'get' | 'runSteps' | 'recent' | 'questions'>
  /** The flows by command name, to draw a run's graph and offer the list's flow filter. */
  flows: { names(): string[]; flow(name: string): AnyFlow | undefined }
  /** CHORUS_TRACE_URL, e.g. `http://localhost:16686/trace/{traceId}`. */
  traceUrl?: string | undefined
  log?: Logger | undefined
  now?: () => number
}

/** Answers one request under `/runs`. */
export type Inspector = (req: IncomingMessage, res: ServerResponse, url: URL) => void

/**
 * The run inspector: `/runs` lists recent runs, `/runs/<id>` shows one. It shows people's prompts
 * and the models' answers, so every request needs the token (see auth.ts); it never shows a reply
 * target's secrets (Slack's response_url, Discord's interaction token).
 */
export function inspector(options: InspectorOptions): Inspector {
  const auth = new InspectorAuth(options.token)
  const now = options.now ?? Date.now
  return (req, res, url) => {
    const verdict = auth.check(req, url)
    if (verdict.ok === 'redirect') {
      res.writeHead(303, {
        location: verdict.location,
        'set-cookie': verdict.cookie,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      })
      res.end()
      return
    }
    const nonce = randomBytes(16).toString('base64')
    const send = (
      status: number,
      title: string,
      body: string,
      script = '',
      extra: Record<string, string> = {},
    ) => {
      res.writeHead(status, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': policy(nonce),
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        ...extra,
      })
      res.end(req.method === 'HEAD' ? undefined : page(title, body, nonce, script))
    }
    if (!verdict.ok) {
      const body = `<h1>The run inspector needs its token</h1><p>Send <code>Authorization: Bearer &lt;CHORUS_INSPECTOR_TOKEN&gt;</code>, or open <code>/runs?token=&lt;CHORUS_INSPECTOR_TOKEN&gt;</code> once in a browser.</p>`
      return send(401, 'Unauthorized', body, '', { 'www-authenticate': 'Bearer realm="chorus runs"' })
    }
    answer(options, url, now()).then(
      (r) => send(r.status, r.title, r.body, r.script),
      (err: unknown) => {
        options.log?.error({ err, path: url.pathname }, 'inspector.failed')
        send(
          500,
          'Error',
          '<h1>The journal could not be read</h1><p>See the log (<code>inspector.failed</code>).</p>',
        )
      },
    )
  }
}

interface Answer {
  status: number
  title: string
  body: string
  script?: string
}

async function answer(options: InspectorOptions, url: URL, now: number): Promise<Answer> {
  const path = url.pathname.replace(/\/+$/, '')
  const names = options.flows.names()
  if (path === '/runs') {
    const query = listQuery(url, names)
    const runs = await options.store.recent(query)
    return { status: 200, title: 'Runs', body: listPage(runs, query, names, now), script: LIST_SCRIPT }
  }
  const id = safeDecode(path.slice('/runs/'.length))
  const run =
    id === undefined || id.length > 200 || id.includes('/') ? undefined : await options.store.get(id)
  if (run === undefined)
    return {
      status: 404,
      title: 'No such run',
      body: `<h1>No such run</h1><p>${esc(id ?? '')} is not in the journal (ended runs are kept 7 days).</p><p><a href="/runs">All runs</a></p>`,
    }
  const [steps, questions] = await Promise.all([
    options.store.runSteps(run.id),
    options.store.questions(run.id),
  ])
  const data: RunPageData = {
    run,
    steps,
    questions,
    graph: graphOf(options.flows.flow(run.command), run),
    finalStep: FINAL_STEP,
    traceUrl: options.traceUrl,
    now,
  }
  return { status: 200, title: `${run.command} ${run.id}`, body: runPage(data) }
}

/** The flow's steps for the run's input; a flow that is gone, or no longer takes that input, says so. */
function graphOf(flow: AnyFlow | undefined, run: RunRecord): RunPageData['graph'] {
  if (flow === undefined) return { error: `This process has no flow named '${run.command}'.` }
  const parsed = flow.input.safeParse(run.input)
  if (!parsed.success) return { error: `The flow '${run.command}' no longer takes this run's input.` }
  try {
    return { nodes: flowNodes(flow, parsed.data), mermaid: toMermaid(flow, run.input as never) }
  } catch (error) {
    return {
      error: `The flow's graph could not be built: ${error instanceof Error ? error.message : String(error)}`,
    }
  }
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text)
  } catch {
    return undefined
  }
}
