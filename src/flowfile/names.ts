/** Options, steps and router labels share one namespace: the names templates and triggers use. */
import type { Problem } from './errors.ts'
import type { Path, Source } from './parse.ts'
import { JOIN_NAMES } from './scope.ts'
import type { FlowFile } from './shape.ts'

const OPTION = /^[a-z][a-z0-9_-]{0,31}$/
const STEP = /^[a-z][a-z0-9_-]{0,63}$/

export type Kind = 'option' | 'step' | 'label'

/** Every name of the file with its kind, or the problems with them (bad, reserved or taken names). */
export function checkNames(
  source: Source,
  file: FlowFile,
): { kinds: Map<string, Kind>; problems: Problem[] } {
  const kinds = new Map<string, Kind>()
  const problems: Problem[] = []
  const add = (name: string, kind: Kind, where: { line: number; col: number }): void => {
    const rule = kind === 'option' ? OPTION : STEP
    const what = kind === 'label' ? 'label' : kind
    if (!rule.test(name)) {
      const most = kind === 'option' ? 32 : 64
      problems.push({
        ...where,
        message: `${what} name '${name}' is not allowed. Use 1-${most} lowercase letters, digits, '-' or '_', starting with a letter`,
      })
    } else if ((JOIN_NAMES as readonly string[]).includes(name)) {
      problems.push({
        ...where,
        message: `'${name}' is a name the joins fill in ({{value}}, {{from}}, {{values}}). Give the ${what} another name`,
      })
    } else if (kinds.has(name)) {
      problems.push({
        ...where,
        message: `the ${what} name '${name}' is already used by ${article(kinds.get(name) as Kind)}. Options, steps and labels need names of their own`,
      })
    } else kinds.set(name, kind)
  }
  for (const name of Object.keys(file.input)) add(name, 'option', source.keyAt(['input', name]))
  for (const name of Object.keys(file.steps)) add(name, 'step', source.keyAt(['steps', name]))
  for (const [name, step] of Object.entries(file.steps)) {
    step.route?.forEach((label, i) => {
      const path: Path = ['steps', name, 'route', i]
      add(label, 'label', source.at(path))
    })
  }
  return { kinds, problems }
}

function article(kind: Kind): string {
  return kind === 'option' ? 'an option' : `a ${kind}`
}
