/** What cuts a run off from outside: its caller's `signal` and its deadline. */
import { DeadlineExceededError, reasonOf } from './errors.ts'

export class Cutoff {
  /** Set when the deadline passed. */
  error: DeadlineExceededError | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #unlink: (() => void) | undefined

  /**
   * Calls `cancel` when the signal aborts or the deadline passes. Returns false, having called
   * `cancel` already, when the signal was aborted before the run began.
   */
  start(limits: { signal?: AbortSignal; deadlineMs?: number }, cancel: (reason: string) => void): boolean {
    const { signal, deadlineMs } = limits
    if (signal !== undefined) {
      if (signal.aborted) {
        cancel(reasonOf(signal.reason))
        return false
      }
      const onAbort = (): void => cancel(reasonOf(signal.reason))
      signal.addEventListener('abort', onAbort, { once: true })
      this.#unlink = () => signal.removeEventListener('abort', onAbort)
    }
    if (deadlineMs !== undefined) {
      this.#timer = setTimeout(() => {
        this.error = new DeadlineExceededError(deadlineMs)
        cancel('deadline exceeded')
      }, deadlineMs)
    }
    return true
  }

  /** The run ended: stop watching. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#unlink?.()
  }
}
