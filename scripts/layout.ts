// Checks the code's shape (issue 17): no source file over 350 lines, no function over 80 lines, no
// import circle in src/. Prints what breaks a rule and exits 1; `--all` also lists the largest.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'

export const MAX_FILE_LINES = 350
export const MAX_FUNCTION_LINES = 80
const ROOTS = ['src', 'adapters', 'flows']

export interface Finding {
  file: string
  what: string
  lines: number
}

function sourceFiles(root: string, dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sourceFiles(root, path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out
}

/** Files over MAX_FILE_LINES and functions (declarations, methods, arrows) over MAX_FUNCTION_LINES. */
export function sizes(root: string): { files: Finding[]; functions: Finding[] } {
  const files: Finding[] = []
  const functions: Finding[] = []
  for (const file of ROOTS.flatMap((r) => sourceFiles(root, r))) {
    const text = readFileSync(join(root, file), 'utf8')
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    files.push({ file, what: file, lines })
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line
        const name = node.name !== undefined ? node.name.getText(sf) : `(anonymous at line ${start + 1})`
        functions.push({ file, what: `${file}: ${name}`, lines: end - start + 1 })
      }
      ts.forEachChild(node, visit)
    }
    visit(sf)
  }
  return { files, functions }
}

/** Import circles among the files under `dir` (relative imports only). */
export function cycles(root: string, dir = 'src'): string[][] {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(root, dir)) {
    const text = readFileSync(join(root, file), 'utf8')
    const deps: string[] = []
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gms)) {
      const spec = m[1]
      if (spec === undefined) continue
      // Type-only imports erase at run time but still tie the modules together: counted too.
      deps.push(relative(root, resolve(root, dirname(file), spec)))
    }
    graph.set(file, deps)
  }
  const found: string[][] = []
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const walk = (node: string): void => {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue
      const s = state.get(next)
      if (s === 'open') found.push([...stack.slice(stack.indexOf(next)), next])
      else if (s === undefined) walk(next)
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of graph.keys()) if (!state.has(node)) walk(node)
  return found
}

if (import.meta.main) {
  const root = resolve(import.meta.dirname, '..')
  const { files, functions } = sizes(root)
  const bigFiles = files.filter((f) => f.lines > MAX_FILE_LINES)
  const bigFunctions = functions.filter((f) => f.lines > MAX_FUNCTION_LINES)
  const circles = cycles(root)
  for (const f of bigFiles) console.log(`file over ${MAX_FILE_LINES} lines: ${f.file} (${f.lines})`)
  for (const f of bigFunctions)
    console.log(`function over ${MAX_FUNCTION_LINES} lines: ${f.what} (${f.lines})`)
  for (const c of circles) console.log(`import circle: ${c.join(' → ')}`)
  if (process.argv.includes('--all')) {
    console.log('\nlargest files:')
    for (const f of files.sort((a, b) => b.lines - a.lines).slice(0, 15))
      console.log(`  ${f.lines}\t${f.file}`)
    console.log('largest functions:')
    for (const f of functions.sort((a, b) => b.lines - a.lines).slice(0, 15))
      console.log(`  ${f.lines}\t${f.what}`)
  }
  const bad = bigFiles.length + bigFunctions.length + circles.length
  console.log(
    bad === 0 ? 'layout: every file, function and import is within bounds' : `layout: ${bad} to fix`,
  )
  process.exitCode = bad === 0 ? 0 : 1
}
