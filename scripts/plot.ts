/** `npm run plot -- <flow>`: prints the flow as a Mermaid flowchart (for its example input). */
import { loadFlows } from '../src/bot/index.ts'
import { toMermaid } from '../src/engine/index.ts'

const name = process.argv[2]
const flows = await loadFlows()
const found = flows.find((r) => r.flow.name === name)
if (found === undefined) {
  process.stderr.write(`usage: npm run plot -- <flow>\nflows: ${flows.map((r) => r.flow.name).join(', ')}\n`)
  process.exitCode = 2
} else {
  process.stdout.write(`${toMermaid(found.flow)}\n`)
}
