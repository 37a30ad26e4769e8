import { createInterface } from 'node:readline'
import type { Bot, CommandRun, ReplySink, ReplyView } from '../../src/bot/index.ts'
import { renderView } from './render.ts'

type Out = { write(s: string): unknown; isTTY?: boolean; columns?: number }

/**
 * A sink that prints views; on a terminal, the progress block (a line, then one per branch) is
 * redrawn in place. Piped output gets no progress, only the results.
 */
export function consoleSink(out: Out): ReplySink {
  /** Lines of the progress block on screen, to move back over. */
  let progressLines = 0
  let firstShown = false
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
      if (progress && !out.isTTY) return
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
    },
  }
}

/** Runs `/name text` once and prints the reply; resolves with the exit code. */
export async function runOnce(bot: Bot, line: string, out: Out = process.stdout): Promise<number> {
  const run = dispatch(bot, line, out)
  if (run === undefined) return 2
  const result = await run.done
  return result.status === 'completed' ? 0 : 1
}

/** Parses one line and starts its run, or prints help / a usage message. */
export function dispatch(bot: Bot, line: string, out: Out): CommandRun | undefined {
  const m = /^\/?(\S+)\s*([\s\S]*)$/.exec(line.trim())
  if (m === null) return undefined
  const [, name = '', text = ''] = m
  if (name === 'help') {
    out.write(`${help(bot)}\n`)
    return undefined
  }
  const command = bot.command(name)
  if (command === undefined) {
    out.write(`Unknown command /${name}. ${help(bot)}\n`)
    return undefined
  }
  const parsed = bot.parseText(command, text)
  if (!parsed.ok) {
    out.write(`${parsed.message}\n`)
    return undefined
  }
  return bot.start({
    command,
    input: parsed.input,
    // Whoever runs the console asked; named like on Slack and Discord.
    user: process.env.USER || 'console',
    platform: 'console',
    sink: consoleSink(out),
    minIntervalMs: 150,
  })
}

function help(bot: Bot): string {
  const lines = bot.commands.map((c) => `  ${c.usage}\n      ${c.description}`)
  return `Commands:\n${lines.join('\n')}\n  /help\n  /quit`
}

/** The interactive prompt: Ctrl+C stops the running command, or quits at the prompt. */
export async function startConsole(bot: Bot): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY })
  let current: CommandRun | undefined
  let closed = false
  rl.on('close', () => {
    closed = true
  })
  rl.on('SIGINT', () => {
    if (current !== undefined) current.cancel('you (Ctrl+C)')
    else rl.close()
  })
  process.stdout.write(`Chorus console on ${bot.model.id}. Type /help for commands, /quit to leave.\n`)
  rl.setPrompt('> ')
  rl.prompt()
  // The async iterator buffers lines typed (or piped in) while a command runs.
  for await (const line of rl) {
    const trimmed = line.trim()
    if (trimmed === '/quit' || trimmed === '/exit') break
    if (trimmed !== '') {
      current = dispatch(bot, trimmed, process.stdout)
      if (current !== undefined) await current.done
      current = undefined
    }
    if (!closed) rl.prompt()
  }
  rl.close()
}
