import type { Redis } from 'ioredis'
import { stepEntries, stepValue } from './redis-inspect.ts'
import type { CompletedStep, StepEntry, StepOutcome } from './types.ts'

/** A step field in a run's hash starts with this (`~call:step`, a failure `~!call:step`). */
const STEP = '~'
/** A run created with this field set to `run` keeps its steps in its own hash. */
export const STEPS_IN = 'stepsIn'

/**
 * A run's step outcomes on Redis, as fields of the run's own hash: one read gives a run and its
 * steps, and the run's TTL covers them. Runs written before (no `stepsIn` field) also have steps in
 * a hash of their own (`<run>:steps`), read with them; steps recorded now go to the run's hash either way.
 */
export class RedisSteps {
  readonly #redis: Redis
  readonly #run: (id: string) => string

  constructor(redis: Redis, run: (id: string) => string) {
    this.#redis = redis
    this.#run = run
  }

  /**
   * One command: the first success of a call stays; a failure is kept apart (`!`), so a success
   * replaces it and it never replaces a success. The timing rides in the value (redis-inspect.ts).
   */
  async record(runId: string, outcome: StepOutcome): Promise<void> {
    const field = `${outcome.call}:${outcome.step}`
    const value = stepValue(outcome, outcome.timing)
    if (outcome.ok) await this.#redis.hsetnx(this.#run(runId), `${STEP}${field}`, value)
    else await this.#redis.hset(this.#run(runId), `${STEP}!${field}`, value)
  }

  /** A run's hash and its steps: one HGETALL (and one more for a run written before steps moved in). */
  async read(runId: string): Promise<{ hash: Record<string, string>; steps: StepEntry[] }> {
    const hash = await this.#redis.hgetall(this.#run(runId))
    const own: Record<string, string> = {}
    for (const [field, value] of Object.entries(hash))
      if (field.startsWith(STEP)) own[field.slice(STEP.length)] = value
    if (hash[STEPS_IN] !== 'run') Object.assign(own, await this.#redis.hgetall(`${this.#run(runId)}:steps`))
    return { hash, steps: stepEntries(own) }
  }

  async completed(runId: string): Promise<CompletedStep[]> {
    return completedOf((await this.read(runId)).steps)
  }
}

/** The successes among a run's step entries (failures are only recorded). */
export function completedOf(entries: StepEntry[]): CompletedStep[] {
  return entries.flatMap((e) => (e.ok ? [{ step: e.step, call: e.call, value: e.value }] : []))
}
