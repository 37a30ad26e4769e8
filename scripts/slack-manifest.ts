/**
 * `npm run slack:manifest`: prints the Slack app manifest (YAML) for the flows in flows/. With
 * SLACK_PUBLIC_URL (or `-- --url https://…`) it is the manifest of an app installed in many
 * workspaces: HTTP mode on that URL, the OAuth redirect URL, token rotation and the uninstall events.
 */
import { existsSync } from 'node:fs'
import { slackManifest } from '../adapters/slack/manifest.ts'
import { commandOf, loadFlows } from '../src/bot/index.ts'

if (existsSync('.env')) process.loadEnvFile('.env')
const at = process.argv.indexOf('--url')
const publicUrl = (at >= 0 ? process.argv[at + 1] : process.env.SLACK_PUBLIC_URL)?.trim() || undefined
if (publicUrl !== undefined && !/^https?:\/\/[^/]/.test(publicUrl)) {
  process.stderr.write(`The public URL must look like https://chorus.example.com (got "${publicUrl}")\n`)
  process.exit(1)
}
const flows = await loadFlows()
process.stdout.write(
  slackManifest(
    flows.map((r) => commandOf(r.flow)),
    'Chorus',
    { publicUrl },
  ),
)
