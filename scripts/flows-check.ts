/**
 * `npm run flows:check [dir]`: loads every flow in flows/ (or `dir`) as start-up does, without
 * starting: prints `ok: N flows (names)`, or every file's errors and exits 1. Warnings are printed too.
 */
import { resolve } from 'node:path'
import { checkFlows, FLOWS_DIR } from '../src/bot/index.ts'

// npm runs scripts in the package folder; a relative dir is the caller's (INIT_CWD).
const dir = process.argv[2] === undefined ? FLOWS_DIR : resolve(process.env.INIT_CWD ?? '.', process.argv[2])
const report = await checkFlows(dir)
for (const warning of report.warnings) process.stderr.write(`warning: ${warning}\n`)
for (const error of report.errors)
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
if (report.errors.length > 0) {
  process.stderr.write(
    `${report.errors.length} of ${report.errors.length + report.registered.length} flows did not load\n`,
  )
  process.exitCode = 1
} else {
  const names = report.registered.map((r) => r.flow.name)
  process.stdout.write(`ok: ${names.length} flows (${names.join(', ')})\n`)
}
