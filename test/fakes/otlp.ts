/**
 * An OTLP/HTTP trace receiver (what a collector listens on at :4318) for tests and benchmarks: it
 * takes `POST /v1/traces` in the JSON encoding (protobuf bodies are counted, not decoded), checks
 * the request as a collector would (method, path, content type, a JSON body of the OTLP shape; a
 * wrong one gets 400/404/415), and keeps every span, flattened.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http'
import { listen } from './http.ts'

type AnyValue = {
  stringValue?: string
  intValue?: string | number
  doubleValue?: number
  boolValue?: boolean
  arrayValue?: { values?: AnyValue[] }
}
type KeyValue = { key: string; value: AnyValue }

export interface ReceivedSpan {
  traceId: string
  spanId: string
  /** Empty for a root span. */
  parentSpanId: string
  name: string
  /** OTLP's numbers: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number
  startMs: number
  endMs: number
  attributes: Record<string, unknown>
  events: Array<{ name: string; attributes: Record<string, unknown> }>
  links: Array<{ traceId: string; spanId: string; attributes: Record<string, unknown> }>
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string }
  resource: Record<string, unknown>
}

export interface FakeOtlp {
  /** The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string
  spans: ReceivedSpan[]
  /** Each export request's headers and content type. */
  requests: Array<{ headers: IncomingHttpHeaders; bytes: number }>
  /** Requests refused, with why. */
  refused: string[]
  close(): Promise<void>
}

export async function startFakeOtlp(): Promise<FakeOtlp> {
  const spans: ReceivedSpan[] = []
  const requests: FakeOtlp['requests'] = []
  const refused: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      const refuse = (status: number, why: string) => {
        refused.push(why)
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ message: why }))
      }
      if (req.method !== 'POST') return refuse(405, `${req.method} is not POST`)
      if (req.url !== '/v1/traces') return refuse(404, `no such path ${req.url}`)
      const type = req.headers['content-type'] ?? ''
      requests.push({ headers: req.headers, bytes: body.length })
      if (type.startsWith('application/x-protobuf')) {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
        return
      }
      if (!type.startsWith('application/json')) return refuse(415, `content type ${type}`)
      let parsed: { resourceSpans?: unknown }
      try {
        parsed = JSON.parse(body.toString('utf8')) as { resourceSpans?: unknown }
      } catch {
        return refuse(400, 'body is not JSON')
      }
      if (!Array.isArray(parsed.resourceSpans)) return refuse(400, 'no resourceSpans array')
      for (const rs of parsed.resourceSpans as Array<Record<string, unknown>>) spans.push(...flatten(rs))
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  const { port, close } = await listen(server)
  return { url: `http://127.0.0.1:${port}`, spans, requests, refused, close }
}

function flatten(rs: Record<string, unknown>): ReceivedSpan[] {
  const resource = attrs((rs.resource as { attributes?: KeyValue[] } | undefined)?.attributes)
  const out: ReceivedSpan[] = []
  for (const ss of (rs.scopeSpans as Array<{ spans?: Array<Record<string, unknown>> }> | undefined) ?? []) {
    for (const s of ss.spans ?? []) {
      if (!/^[0-9a-f]{32}$/.test(String(s.traceId)) || !/^[0-9a-f]{16}$/.test(String(s.spanId)))
        throw new Error(`span ${String(s.name)} has malformed ids`)
      out.push({
        traceId: String(s.traceId),
        spanId: String(s.spanId),
        parentSpanId: String(s.parentSpanId ?? ''),
        name: String(s.name),
        kind: Number(s.kind ?? 0),
        startMs: Number(BigInt(String(s.startTimeUnixNano)) / 1_000_000n),
        endMs: Number(BigInt(String(s.endTimeUnixNano)) / 1_000_000n),
        attributes: attrs(s.attributes as KeyValue[] | undefined),
        events: ((s.events as Array<{ name: string; attributes?: KeyValue[] }> | undefined) ?? []).map(
          (e) => ({
            name: e.name,
            attributes: attrs(e.attributes),
          }),
        ),
        links: (
          (s.links as Array<{ traceId: string; spanId: string; attributes?: KeyValue[] }> | undefined) ?? []
        ).map((l) => ({ traceId: l.traceId, spanId: l.spanId, attributes: attrs(l.attributes) })),
        status: (s.status as { code: number; message?: string } | undefined) ?? { code: 0 },
        resource,
      })
    }
  }
  return out
}

function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const { key, value } of list ?? []) out[key] = anyValue(value)
  return out
}

function anyValue(v: AnyValue): unknown {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  if (v.boolValue !== undefined) return v.boolValue
  if (v.arrayValue !== undefined) return (v.arrayValue.values ?? []).map(anyValue)
  return undefined
}
