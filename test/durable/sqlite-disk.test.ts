import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeOpenAI } from '../fakes/openai.ts'
import { APP_TOKEN, BOT_TOKEN, startFakeSlack } from '../fakes/slack.ts'
import { type ChorusProcess, startChorus } from '../support/chorus.ts'
import { statusOf } from './helpers.ts'

/**
 * A small filesystem of the test's own (tmpfs), to fill up or mount read-only. Mounting needs root
 * (this project's machines and CI run as root); elsewhere these tests skip and say why.
 */
function tinyFs(
  options: string,
): { dir: string; remount(options: string): void; remove(): void } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'chorus-fs-'))
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return undefined
  }
  return {
    dir,
    remount: (more) => void spawnSync('mount', ['-o', `remount,${more}`, dir]),
    remove() {
      spawnSync('umount', [dir])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const canMount = (() => {
  const fs = tinyFs('size=64k')
  fs?.remove()
  return fs !== undefined
})()

describe.skipIf(!canMount)(
  'the SQLite journal on a full disk or a read-only data dir (tmpfs; needs root)',
  () => {
    const cleanup: Array<() => Promise<void> | void> = []
    afterEach(async () => {
      for (const fn of cleanup.splice(0).reverse()) await fn()
    })

    async function platforms() {
      const slack = await startFakeSlack()
      const openai = await startFakeOpenAI({ handler: () => ({ text: '- an idea', latencyMs: 10 }) })
      cleanup.push(
        () => slack.close(),
        () => openai.close(),
      )
      const env = {
        SLACK_BOT_TOKEN: BOT_TOKEN,
        SLACK_APP_TOKEN: APP_TOKEN,
        SLACK_API_URL: slack.apiUrl,
        OPENAI_API_KEY: 'sk-test',
        OPENAI_BASE_URL: openai.url,
        CHORUS_MODEL: 'fake',
      }
      return { slack, env }
    }

    it('a read-only CHORUS_DATA_DIR stops start-up with a message naming it, before any platform connects', async () => {
      const fs = tinyFs('size=256k')
      if (fs === undefined) throw new Error('mount failed')
      cleanup.push(() => fs.remove())
      mkdirSync(join(fs.dir, 'data'))
      fs.remount('ro')
      const { slack, env } = await platforms()
      const data = join(fs.dir, 'data')
      const started = startChorus({ ...env, CHORUS_DATA_DIR: data }, tmpdir())
      await expect(started).rejects.toThrow(/exited with 1/)
      await expect(started).rejects.toThrow(/cannot write its run journal in CHORUS_DATA_DIR/)
      await expect(started).rejects.toThrow(data)
      await expect(started).rejects.not.toThrow(/at .*\.ts:\d+/)
      expect(slack.links).toHaveLength(0)
    })

    it('a full disk: a new command gets a clear ephemeral answer inside 3 s, the process keeps serving, and commands run again once there is room', async () => {
      const fs = tinyFs('size=1m')
      if (fs === undefined) throw new Error('mount failed')
      cleanup.push(() => fs.remove())
      const { slack, env } = await platforms()
      let chorus: ChorusProcess | undefined
      cleanup.push(async () => {
        chorus?.kill('SIGKILL')
        await chorus?.exited
      })
      chorus = await startChorus({ ...env, CHORUS_DATA_DIR: join(fs.dir, 'data') }, tmpdir())
      // Fill the disk to the last byte.
      const filler = join(fs.dir, 'filler')
      const block = Buffer.alloc(4096)
      try {
        for (let i = 0; i < 1024; i++) writeFileSync(filler, block, { flag: 'a' })
      } catch (err) {
        expect((err as { code?: string }).code).toBe('ENOSPC')
      }
      const ack = await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'on a full disk'))
      expect(ack.ms).toBeLessThan(3_000)
      expect((ack.payload as { response_type?: string }).response_type).toBe('ephemeral')
      expect(JSON.stringify(ack.payload)).toMatch(/run journal could not be written.*Nothing was started/)
      await chorus.waitForLog((l) => l.msg === 'intake.failed', 5_000)
      expect(slack.posted()).toHaveLength(0)

      rmSync(filler)
      const again = await slack.send('slash_commands', slack.slashPayload('/brainstorm', 'with room again'))
      expect(again.ms).toBeLessThan(3_000)
      await expect
        .poll(() => slack.posted().map((m) => statusOf(m.text)), { timeout: 15_000 })
        .toEqual(['done'])
      expect(chorus.child.exitCode).toBeNull()
    })
  },
)
