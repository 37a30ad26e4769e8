import { createInterface, type Interface } from 'node:readline'

/**
 * The console's input as lines, for whoever reads next: the command prompt, or a question of the
 * running command. Lines that arrive while no one reads (typed ahead, or piped in) wait in order.
 */
export class Lines {
  readonly #rl: Interface
  readonly #queue: string[] = []
  readonly #readers: Array<(line: string | undefined) => void> = []
  #closed = false

  /** A person types (prompts are shown, Ctrl+C is `onInterrupt`); otherwise a script pipes. */
  readonly terminal: boolean

  constructor(rl: Interface, terminal: boolean) {
    this.#rl = rl
    this.terminal = terminal
    rl.on('line', (line) => {
      const reader = this.#readers.shift()
      if (reader === undefined) this.#queue.push(line)
      else reader(line)
    })
    rl.on('close', () => {
      this.#closed = true
      for (const reader of this.#readers.splice(0)) reader(undefined)
    })
  }

  /**
   * Lines of `input`; a terminal's are echoed and edited on `output` as they are typed (stdout unless
   * `output` is a stream itself).
   */
  static open(input: NodeJS.ReadableStream & { isTTY?: boolean }, output?: object): Lines {
    const terminal = input.isTTY === true
    const echo = output !== undefined && 'on' in output ? (output as NodeJS.WritableStream) : process.stdout
    return new Lines(createInterface({ input, ...(terminal ? { output: echo } : {}), terminal }), terminal)
  }

  /** Nothing more will come: the input ended (EOF, Ctrl+D) and every line was read. */
  get ended(): boolean {
    return this.#closed && this.#queue.length === 0
  }

  /** The next line; undefined once the input ended, or at once when `signal` aborts (the line stays). */
  next(signal?: AbortSignal): Promise<string | undefined> {
    const queued = this.#queue.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    if (this.#closed || signal?.aborted) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const reader = (line: string | undefined): void => {
        signal?.removeEventListener('abort', onAbort)
        resolve(line)
      }
      const onAbort = (): void => {
        const i = this.#readers.indexOf(reader)
        if (i >= 0) this.#readers.splice(i, 1)
        resolve(undefined)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#readers.push(reader)
    })
  }

  /** Shows `text` as the prompt on a terminal (piped input gets none). */
  prompt(text: string): void {
    if (!this.terminal || this.#closed) return
    this.#rl.setPrompt(text)
    this.#rl.prompt()
  }

  /** Shows the prompt again with what was typed so far, after other output was printed over it. */
  reprompt(): void {
    if (this.terminal && !this.#closed) this.#rl.prompt(true)
  }

  /** Ctrl+C on a terminal (readline takes it from the process while it reads). */
  onInterrupt(handler: () => void): void {
    this.#rl.on('SIGINT', handler)
  }

  close(): void {
    this.#rl.close()
  }
}
