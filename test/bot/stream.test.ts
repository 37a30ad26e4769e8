import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { type EditBudget, type ReplyView, streamedText } from '../../src/bot/index.ts'
import { ReplyPump, ViewBuilder } from '../../src/bot/reply/index.ts'
import type { FlowEvent } from '../../src/engine/index.ts'

const silent = pino({ level: 'silent' })

function builder(branches: string[]) {
  const views = new ViewBuilder({
    runId: 'r1',
    command: 'brainstorm',
    title: 'Brainstorm: lunch',
    user: 'ada',
    noun: 'ideas',
    demo: false,
    firstLabel: 'First idea',
    retryable: true,
  })
  let id = 0
  const apply = (body: Record<string, unknown>) =>
    views.apply({ id: ++id, causeId: undefined, runId: 'r1', at: 10, ...body } as FlowEvent)
  /** `step` finished with `value`. */
  const completed = (step: string, value: string) =>
    apply({ type: 'step.completed', step, call: 1, resumed: false, value, durationMs: 9, queuedMs: 0 })
  apply({
    type: 'run.started',
    flow: 'brainstorm',
    input: {},
    steps: branches.map((name) => ({ name, kind: 'start' })),
  })
  return { views, apply, completed }
}

describe('streamed text in the reply', () => {
  it('shows the first branch to write while it runs; when it fails, the running branch with the most text', () => {
    const { views, apply, completed } = builder(['a', 'b', 'c'])
    expect(views.stream('b', '- **B')).toBe(true)
    expect(views.stream('a', '- **A idea** and')).toBe(false)
    expect(views.stream('c', '- **C')).toBe(false)
    expect(views.streamingView()?.streaming).toEqual({ step: 'b', markdown: '- **B' })
    expect(views.streamingView()?.branches.find((x) => x.name === 'b')?.writing).toBe(true)
    expect(views.stream('b', '- **B idea**')).toBe(true)
    apply({ type: 'step.failed', step: 'b', error: new Error('boom'), durationMs: 5, queuedMs: 0 })
    expect(views.streamingView()?.streaming).toEqual({ step: 'a', markdown: '- **A idea** and' })
    expect(views.stream('c', '- **C idea**')).toBe(false)
    expect(views.stream('a', '- **A idea** and more')).toBe(true)
    // When the leader finishes, the branch still writing takes over until the first result.
    completed('a', 'A')
    expect(views.streamingView()?.streaming).toEqual({ step: 'c', markdown: '- **C idea**' })
  })

  it("a retried leader's text starts again; a cancelled one hands over; the first result ends the streaming", () => {
    const { views, apply, completed } = builder(['a', 'b'])
    views.stream('a', 'first try')
    views.stream('b', 'other')
    apply({ type: 'step.retrying', step: 'a', attempt: 1, delayMs: 10, error: new Error('429') })
    expect(views.streamingView()?.streaming?.step).toBe('b')
    apply({ type: 'step.cancelled', step: 'b', reason: 'not needed', queuedMs: 0 })
    expect(views.streamingView()).toBeUndefined()
    expect(views.stream('a', 'second')).toBe(true)
    completed('a', 'second try')
    // A finished leader's answer is the first result's to show; nothing else is writing.
    expect(views.streamingView()).toBeUndefined()
    const first = apply({ type: 'run.first', step: 'a', value: 'second try' })
    expect(first?.status).toBe('first')
    expect(first?.streaming).toBeUndefined()
    expect(first?.branches.some((b) => b.writing)).toBe(false)
    expect(views.stream('a', 'late')).toBe(false)
    expect(views.streamingView()).toBeUndefined()
  })

  it('closes markup the model has opened but not finished, and adds a cursor', () => {
    expect(streamedText('- **Pul')).toBe('- **Pul** ▍')
    expect(streamedText('- **Pulse**: a live')).toBe('- **Pulse**: a live ▍')
    expect(streamedText('run `npm t')).toBe('run `npm t` ▍')
    expect(streamedText('```ts\nconst a = "**"')).toBe('```ts\nconst a = "**"\n```\n▍')
    expect(streamedText('```\nx\n``` and **bo')).toBe('```\nx\n``` and **bo** ▍')
    expect(streamedText('x'.repeat(5_000)).length).toBeLessThan(2_900)
  })

  it('the first streamed text goes out at once, more of it at most once per interval, the first result at once', async () => {
    const shown: Array<{ view: ReplyView; at: number }> = []
    const t0 = performance.now()
    const pump = new ReplyPump(
      {
        show: async (view) => {
          shown.push({ view, at: performance.now() - t0 })
        },
      },
      300,
      silent,
    )
    const { views, apply, completed } = builder(['a', 'b'])
    pump.push(views.snapshot())
    await new Promise((r) => setTimeout(r, 20))
    // Pieces every 10 ms for 500 ms.
    for (let i = 1; i <= 50; i++) {
      views.stream('a', 'word '.repeat(i))
      pump.push(views.streamingView() as ReplyView)
      await new Promise((r) => setTimeout(r, 10))
    }
    completed('a', 'done')
    pump.push(apply({ type: 'run.first', step: 'a', value: 'done' }) as ReplyView)
    await new Promise((r) => setTimeout(r, 20))
    const streamed = shown.filter((s) => s.view.streaming !== undefined)
    // The first piece arrived ~20 ms after the placeholder and was not held for the 300 ms interval.
    expect(streamed[0]?.at).toBeLessThan(80)
    expect(streamed.length).toBeGreaterThanOrEqual(2)
    expect(streamed.length).toBeLessThanOrEqual(3)
    for (let i = 1; i < streamed.length; i++)
      expect((streamed[i]?.at as number) - (streamed[i - 1]?.at as number)).toBeGreaterThanOrEqual(295)
    const first = shown.at(-1)
    expect(first?.view.status).toBe('first')
    // Not held for the interval either.
    expect((first?.at as number) - (streamed.at(-1)?.at as number)).toBeLessThan(300)
  })
})

describe('reply pump and the platform budget', () => {
  it('a final replaces progress still waiting for its turn; a first result not yet shown stays ahead of it', async () => {
    const grants: Array<() => void> = []
    const budget: EditBudget = {
      acquire: () => {
        let grant!: () => void
        const granted = new Promise<void>((r) => {
          grant = r
        })
        grants.push(grant)
        return { granted, raise: () => {}, cancel: () => {} }
      },
      pause: () => {},
      waiting: 0,
    }
    const shown: string[] = []
    const sink = {
      show: async (view: ReplyView) => void shown.push(`${view.status}:${view.progress.done}`),
      route: () => ({ key: 'k', limit: 1, windowMs: 1_000 }),
    }
    const next = async () => {
      await new Promise((r) => setTimeout(r, 5))
      grants.shift()?.()
      await new Promise((r) => setTimeout(r, 5))
    }
    const { views, apply, completed } = builder(['a', 'b', 'c'])
    const pump = new ReplyPump(sink, 0, silent, { budget })
    pump.push(views.snapshot())
    await next()
    completed('a', 'A')
    pump.push(apply({ type: 'run.first', step: 'a', value: 'A' }) as ReplyView)
    await next()
    // Progress after the first result waits for a turn; then the run ends.
    pump.push(completed('b', 'B') as ReplyView)
    pump.push(views.finish({ status: 'cancelled', durationMs: 9, failures: [] } as never, 'bob'))
    await next()
    await next()
    expect(shown).toEqual(['working:0', 'first:1', 'stopped:2'])

    // A first result queued behind a slow turn is still shown before the final.
    const second = builder(['a', 'b'])
    const pump2 = new ReplyPump(sink, 0, silent, { budget })
    shown.length = 0
    pump2.push(second.views.snapshot())
    second.completed('a', 'A')
    pump2.push(second.apply({ type: 'run.first', step: 'a', value: 'A' }) as ReplyView)
    pump2.push(second.views.finish({ status: 'cancelled', durationMs: 9, failures: [] } as never, 'bob'))
    for (let i = 0; i < 4; i++) await next()
    expect(shown).toEqual(['first:1', 'stopped:1'])
  })

  it('a final still waiting for its turn when the reply is about to close goes out without one (a budget on a Redis that is away)', async () => {
    let cancelled = 0
    // A turn that is never granted, as when every grant waits for Redis; cancel rejects it, as the real ones do.
    const stuck: EditBudget = {
      acquire: () => {
        let reject!: (error: unknown) => void
        const granted = new Promise<void>((_, r) => {
          reject = r
        })
        return {
          granted,
          raise: () => {},
          cancel: () => {
            cancelled++
            reject(new Error('cancelled'))
          },
        }
      },
      pause: () => {},
      waiting: 0,
    }
    const shown: Array<{ status: string; at: number }> = []
    const t0 = Date.now()
    const sink = {
      show: async (view: ReplyView) => void shown.push({ status: view.status, at: Date.now() - t0 }),
      route: () => ({ key: 'k', limit: 1, windowMs: 1_000 }),
    }
    const { views, completed } = builder(['a'])
    const pump = new ReplyPump(sink, 0, silent, { budget: stuck, closesAt: t0 + 3_400 })
    pump.push(views.snapshot())
    await new Promise((r) => setTimeout(r, 100))
    // Progress keeps waiting for its turn: only the terminal view is worth the reply's last moments.
    expect(shown).toEqual([])
    completed('a', 'A')
    pump.push(
      views.finish(
        { status: 'failed', durationMs: 9, failures: [], error: new Error('late') } as never,
        undefined,
      ),
    )
    await pump.drained
    expect(shown.map((s) => s.status)).toEqual(['failed'])
    expect(shown[0]?.at).toBeGreaterThanOrEqual(300)
    expect(shown[0]?.at).toBeLessThan(3_400)
    expect(cancelled).toBe(1)
  })
})
