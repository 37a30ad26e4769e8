/** Loading one flow file: parse, shape, checks, compile; every problem found, or the flow. */
import { readFile } from 'node:fs/promises'
import { type AnyFlow, FlowDefinitionError } from '../engine/index.ts'
import { checkFlow } from './check.ts'
import { compile } from './compile.ts'
import { FlowFileError, type Problem } from './errors.ts'
import { checkExample, inputSchema } from './input.ts'
import { Source } from './parse.ts'
import { checkShape } from './shape.ts'

/** A loaded file flow, and what in it works but looks like a mistake. */
export interface FlowFileResult {
  flow: AnyFlow
  warnings: Problem[]
  /** Where its `name` is written (for a name another flow also has). */
  nameAt: { line: number; col: number }
}

/** The extensions read as flow files (JSON is YAML). */
export const FLOW_FILE = /\.(?:ya?ml|json)$/

/** The flow `text` declares; `file` (`flows/standup.yaml`) names it in errors. Throws FlowFileError. */
export function flowFromText(text: string, file: string): FlowFileResult {
  const source = new Source(text)
  if (source.problems.length > 0) throw new FlowFileError(file, source.problems)
  const shaped = checkShape(source)
  if (shaped.file === undefined) throw new FlowFileError(file, shaped.problems)
  const checked = checkFlow(source, shaped.file)
  if (checked.plan === undefined) throw new FlowFileError(file, checked.problems)
  const example = checkExample(source, shaped.file, inputSchema(shaped.file.input))
  if (example.length > 0) throw new FlowFileError(file, example)
  try {
    return { flow: compile(checked.plan), warnings: checked.warnings, nameAt: source.at(['name']) }
  } catch (error) {
    if (!(error instanceof FlowDefinitionError)) throw error
    // What the engine's own build refuses (a step that can never run), at the step it names.
    const message = error.message.replace(/^flow '[^']*': /, '')
    const step = /\b(?:step|router) '([^']+)'/.exec(message)?.[1]
    const at = step === undefined ? source.at(['steps']) : source.keyAt(['steps', step])
    throw new FlowFileError(file, [{ ...at, message: `${message}. Check what it listens to (after)` }])
  }
}

/** Reads and loads the flow file at `path`. */
export async function loadFlowFile(path: string, file: string): Promise<FlowFileResult> {
  return flowFromText(await readFile(path, 'utf8'), file)
}
