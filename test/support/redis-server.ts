/**
 * A redis-server of the test's own (never the shared one on 6379), on a free port with AOF in a
 * scratch folder, so a test can kill it with -9, pause it (SIGSTOP) and start it again on the same data.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'

export interface OwnRedis {
  url: string
  port: number
  /** Sends a signal to the running server (SIGKILL, SIGSTOP, SIGCONT). */
  signal(signal: NodeJS.Signals): void
  /** Kills the server with -9 and waits until it is gone. */
  kill(): Promise<void>
  /** Starts the server again on the same port and data; resolves once it answers PING. */
  start(): Promise<void>
  /** Kills it for good and removes its data. */
  remove(): Promise<void>
}

/** A port nobody listens on right now (for a child process or a server of a test's own). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function answers(port: number): Promise<boolean> {
  const probe = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null })
  probe.on('error', () => {})
  try {
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'chorus-redis-'))
  let child: ChildProcess | undefined
  const start = async () => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '']
    child = spawn('redis-server', [...args, '--appendonly', 'yes', '--appendfsync', 'always'], {
      stdio: 'ignore',
    })
    for (let i = 0; i < 100; i++) {
      if (await answers(port)) return
      await new Promise((r) => setTimeout(r, 50))
    }
    throw new Error(`redis-server did not answer on port ${port}`)
  }
  const kill = async () => {
    const c = child
    if (c === undefined || c.exitCode !== null || c.signalCode !== null) return
    const gone = new Promise((resolve) => c.once('exit', resolve))
    c.kill('SIGKILL')
    await gone
  }
  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    signal: (signal) => child?.kill(signal),
    kill,
    start,
    async remove() {
      await kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
