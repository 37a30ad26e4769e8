import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Check } from '../bot/index.ts'
import type { Inspector } from './inspector/index.ts'

export interface OpsServerOptions {
  port: number
  host?: string
  /** The Prometheus text exposition and its content type. */
  metrics(): Promise<{ body: string; contentType: string }>
  /** Named readiness checks (platform connections, the store); all must pass for 200. */
  checks: Record<string, () => Promise<Check>>
  /** A check that has not answered within this long fails (a hung Redis must not hang the probe). */
  checkTimeoutMs?: number
  /** The run inspector under `/runs`, when CHORUS_INSPECTOR_TOKEN is set. */
  inspector?: Inspector | undefined
}

export interface OpsServer {
  readonly port: number
  close(): Promise<void>
}

/**
 * Serves `GET /healthz` (the process answers), `/readyz` (every check passes, else 503 + JSON),
 * `/metrics`, and the run inspector under `/runs` when it is on.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2_000
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const path = url.pathname
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : body)
    }
    const json = (status: number, body: unknown) =>
      send(status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`)
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(405, { error: 'method_not_allowed' })
    if (path === '/healthz') return json(200, { status: 'ok' })
    if (path === '/readyz') {
      readiness(options.checks, timeoutMs).then(
        (result) => json(result.ready ? 200 : 503, result),
        (error: unknown) => json(503, { ready: false, reason: String(error) }),
      )
      return
    }
    if (path === '/metrics') {
      options.metrics().then(
        ({ body, contentType }) => send(200, contentType, body),
        (error: unknown) => send(500, 'text/plain; charset=utf-8', `metrics failed: ${String(error)}\n`),
      )
      return
    }
    if (path === '/runs' || path.startsWith('/runs/')) {
      if (options.inspector !== undefined) return options.inspector(req, res, url)
      return json(404, {
        error: 'inspector_off',
        hint: 'set CHORUS_INSPECTOR_TOKEN to turn the run inspector on',
      })
    }
    json(404, { error: 'not_found', paths: ['/healthz', '/readyz', '/metrics', '/runs'] })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject)
      resolve()
    })
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

async function readiness(
  checks: Record<string, () => Promise<Check>>,
  timeoutMs: number,
): Promise<{ ready: boolean; checks: Record<string, Check>; reason?: string }> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, Check]> => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<Check>((resolve) => {
        timer = setTimeout(
          () => resolve({ ok: false, reason: `no answer within ${timeoutMs} ms` }),
          timeoutMs,
        )
      })
      const result = await Promise.race([
        check().catch((error: unknown): Check => ({ ok: false, reason: errorText(error) })),
        timeout,
      ])
      clearTimeout(timer)
      return [name, result]
    }),
  )
  const failed = entries.filter(([, c]) => !c.ok)
  const result: { ready: boolean; checks: Record<string, Check>; reason?: string } = {
    ready: failed.length === 0,
    checks: Object.fromEntries(entries),
  }
  if (failed.length > 0) {
    result.reason = failed.map(([name, c]) => `${name}: ${c.ok ? '' : c.reason}`).join('; ')
  }
  return result
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
