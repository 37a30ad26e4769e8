import { type FlowEvent, type RunHandle, sleep } from '../../src/engine/index.ts'

/** Resolves with `value` after `ms`, rejecting at once when the signal aborts (as a model call would). */
export async function delay<T>(ms: number, value: T, signal?: AbortSignal): Promise<T> {
  await sleep(ms, signal)
  return value
}

/** Collects a run's events and its result. */
export async function collect<R, F>(run: RunHandle<R, F>): Promise<FlowEvent[]> {
  const events: FlowEvent[] = []
  for await (const e of run) events.push(e)
  return events
}
