/** `npm run slack:manifest`: prints the Slack app manifest (YAML) for the flows in flows/. */
import { slackManifest } from '../adapters/slack/manifest.ts'
import { commandOf, loadFlows } from '../src/bot/index.ts'

const flows = await loadFlows()
process.stdout.write(slackManifest(flows.map((r) => commandOf(r.flow))))
