import type { ReplySink, ReplyView } from '../../src/bot/index.ts'
import { renderView } from './render.ts'

export type Out = { write(s: string): unknown; isTTY?: boolean; columns?: number }

/** A reply sink that a question can hold while someone types its answer. */
export interface ConsoleSink extends ReplySink {
  /**
   * A question waits for typing: the progress block is erased and not redrawn (it would move over the
   * question); `reprint` runs after each result printed meanwhile. Returns the release.
   */
  hold(reprint: () => void): () => void
}

/**
 * A sink that prints views; on a terminal, the progress block (a line, then one per branch) is
 * redrawn in place. Piped output gets no progress, only the results.
 */
export function consoleSink(out: Out): ConsoleSink {
  /** Lines of the progress block on screen, to move back over. */
  let progressLines = 0
  let firstShown = false
  let held: (() => void) | undefined
  const erase = (): string =>
    progressLines === 0 ? '' : `\r${progressLines > 1 ? `\x1b[${progressLines - 1}A` : ''}\x1b[J`
  return {
    async show(view: ReplyView) {
      // After the first result is printed, later updates are progress lines again.
      const progress = view.status === 'working' || (view.status === 'first' && firstShown)
      if (view.status === 'first') firstShown = true
      const text = progress
        ? renderView({ ...view, status: 'working' })
        : renderView(view, out.isTTY === true)
      if (progress && (!out.isTTY || held !== undefined)) return
      if (progress) {
        // A line wider than the terminal would wrap and throw off the count of lines to move back over.
        const width = Math.max(20, (out.columns ?? 80) - 1)
        const lines = text.split('\n').map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l))
        out.write(`${erase()}${lines.join('\n')}`)
        progressLines = lines.length
        return
      }
      out.write(`${erase()}${text}\n`)
      progressLines = 0
      held?.()
    },
    hold(reprint) {
      out.write(erase())
      progressLines = 0
      held = reprint
      return () => {
        if (held === reprint) held = undefined
      }
    },
  }
}
