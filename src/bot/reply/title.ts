import type { Command } from '../commands/index.ts'
import { truncate } from './text.ts'

/** A refine request is cut to this in titles. */
const REFINE_TITLE_MAX = 80

/** `Brainstorm: a name for our analytics product`, and `· refined: shorter` for a refined run. */
export function titleOf(
  command: Command,
  input: Record<string, unknown>,
  refine?: { request: string },
): string {
  const primary = command.options.find((o) => o.primary)
  const subject = primary === undefined ? '' : String(input[primary.name] ?? '')
  const title = `${capitalise(command.name)}: ${truncate(subject.replace(/\s+/g, ' '), 150)}`
  return refine === undefined
    ? title
    : `${title} · refined: ${truncate(refine.request.replace(/\s+/g, ' '), REFINE_TITLE_MAX)}`
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1)
}
