import type { Bot, CommandRun } from '../../src/bot/index.ts'
import { ConsoleAsker } from './ask.ts'
import { Lines } from './lines.ts'
import { consoleSink, type Out } from './sink.ts'

export { consoleSink } from './sink.ts'

type Input = NodeJS.ReadableStream & { isTTY?: boolean }

/**
 * Runs `/name text` once and prints the reply; resolves with the exit code. Its questions are answered
 * from `input`'s lines (typed, or piped: `npm start -- decide "Which one?" <<< "2"`), read only once
 * a question is asked.
 */
export async function runOnce(
  bot: Bot,
  line: string,
  out: Out = process.stdout,
  input: Input = process.stdin,
): Promise<number> {
  let lines: Lines | undefined
  let run: CommandRun | undefined
  const open = (): Lines => {
    if (lines === undefined) {
      lines = Lines.open(input, out)
      // While it reads a terminal, readline takes Ctrl+C from the process: it stops the run instead.
      lines.onInterrupt(() => run?.cancel('you (Ctrl+C)'))
    }
    return lines
  }
  run = dispatch(bot, line, out, open)
  if (run === undefined) return 2
  try {
    const result = await run.done
    return result.status === 'completed' ? 0 : 1
  } finally {
    lines?.close()
  }
}

/**
 * Parses one line and starts its run, or prints help / a usage message. The run's questions read
 * `input`'s lines; without it, a question fails its step (no one to ask).
 */
export function dispatch(bot: Bot, line: string, out: Out, input?: () => Lines): CommandRun | undefined {
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
  // Whoever runs the console asked; named like on Slack and Discord.
  const user = process.env.USER || 'console'
  const sink = consoleSink(out)
  return bot.start({
    command,
    input: parsed.input,
    user,
    platform: 'console',
    sink,
    minIntervalMs: 150,
    ...(input === undefined ? {} : { asker: new ConsoleAsker(user, { out, sink, lines: input }) }),
  })
}

function help(bot: Bot): string {
  const lines = bot.commands.map((c) => `  ${c.usage}\n      ${c.description}`)
  return `Commands:\n${lines.join('\n')}\n  /help\n  /quit`
}

/**
 * The interactive prompt: Ctrl+C stops the running command, or quits at the prompt. Commands and the
 * answers to their questions come from one stream of lines, so nothing typed for a question is taken
 * for a command.
 */
export async function startConsole(
  bot: Bot,
  input: Input = process.stdin,
  out: Out = process.stdout,
): Promise<void> {
  const lines = Lines.open(input, out)
  let current: CommandRun | undefined
  lines.onInterrupt(() => {
    if (current !== undefined) current.cancel('you (Ctrl+C)')
    else lines.close()
  })
  out.write(`Chorus console on ${bot.model.id}. Type /help for commands, /quit to leave.\n`)
  for (;;) {
    lines.prompt('> ')
    // Lines typed (or piped in) while a command runs wait for it, unless its questions take them.
    const line = await lines.next()
    if (line === undefined) break
    const trimmed = line.trim()
    if (trimmed === '/quit' || trimmed === '/exit') break
    if (trimmed === '') continue
    current = dispatch(bot, trimmed, out, () => lines)
    if (current !== undefined) await current.done
    current = undefined
  }
  lines.close()
}
