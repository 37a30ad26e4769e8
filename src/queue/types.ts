/** What working one run came to, as the queue needs to know it. */
export type WorkOutcome =
  /** Ended (completed, failed, stopped, abandoned) or nothing to do: the job is done. */
  | 'done'
  /** This process is shutting down mid-run: hand the run to another worker. */
  | 'suspended'
  /** This process cannot answer on the run's platform: try again later, perhaps elsewhere. */
  | 'unavailable'

export interface QueueStats {
  waiting: number
  active: number
  delayed: number
}

/** How accepted runs reach a worker: in this process, or through BullMQ on Redis to any process. */
export interface RunQueue {
  /** `local` or `bullmq:<prefix>`, for logs. */
  readonly describe: string
  /**
   * Hands a journaled run to a worker; the run id is the job id, so adding it twice runs it once.
   * `at`: not before then (a question's deadline). `key`: a wake of a run that was parked, a job of
   * its own (its first job may not have finished yet); the same key twice runs once.
   */
  enqueue(runId: string, options?: { at?: number; key?: string }): Promise<void>
  /** Works jobs in this process, at most `concurrency` runs at a time. */
  work(handler: (runId: string) => Promise<WorkOutcome>, options: { concurrency: number }): Promise<void>
  /** True while some process (this one or another) is working the run. */
  isActive(runId: string): Promise<boolean>
  /** Asks whichever process works the run to stop it. */
  publishStop(runId: string, by: string): Promise<void>
  /** Stop requests from other processes. */
  onStop(listener: (runId: string, by: string) => void): Promise<void>
  /** Tells whichever process works the run that one of its questions was decided. */
  publishWake(runId: string): Promise<void>
  onWake(listener: (runId: string) => void): Promise<void>
  stats(): Promise<QueueStats>
  /** Takes no new jobs in this process (shutdown); those in progress go on. */
  pause(): Promise<void>
  /** Stops taking jobs and closes connections; call after suspended runs were handed back. */
  close(): Promise<void>
}
