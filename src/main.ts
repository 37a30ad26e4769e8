import { dispatchLine } from './cli.ts'

await dispatchLine(process.argv.slice(2))
