// Runs a command under Node >= 22.18, which runs Chorus' TypeScript directly (type stripping).
// On an older Node (this file itself runs anywhere), Node 24 is installed once from the npm
// registry into ~/.cache/node24 and put first on PATH for the command.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { delimiter, join } from 'node:path'

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
let env = process.env
if (major < 22 || (major === 22 && minor < 18)) {
  const prefix = join(homedir(), '.cache', 'node24')
  const pkg = `node-${process.platform}-${process.arch}`
  const bin = join(prefix, 'node_modules', pkg, 'bin')
  if (!existsSync(join(bin, 'node'))) {
    process.stderr.write(
      `Node ${process.versions.node} is older than 22.18; installing Node 24 (${pkg}) into ${prefix}, once.\n`,
    )
    const install = spawnSync(
      'npm',
      ['install', '--no-fund', '--no-audit', '--prefix', prefix, `${pkg}@24`],
      { stdio: 'inherit' },
    )
    if (install.status !== 0) {
      process.stderr.write(
        'Could not install Node 24; install Node 24 LTS yourself (see .nvmrc) and try again.\n',
      )
      process.exit(1)
    }
  }
  env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` }
}

const [command, ...args] = process.argv.slice(2)
if (command === undefined) {
  process.stderr.write('usage: node scripts/with-node.mjs <command> [args…]\n')
  process.exit(2)
}
const child = spawn(command, args, { stdio: 'inherit', env })
// Ctrl+C reaches the child through the terminal; this process just waits for it to finish.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))
child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)))
