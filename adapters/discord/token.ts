import type { DiscordTarget } from '../../src/store/index.ts'

/** Discord: an interaction token lives 15 minutes from the interaction's creation. */
export const TOKEN_LIFETIME_MS = 15 * 60_000

/**
 * The interaction token's clock: it lives `lifetimeMs` from the interaction's creation, and a call
 * within `marginMs` of its end goes through the bot instead, so it cannot die on the way.
 */
export interface TokenClock {
  lifetimeMs: number
  marginMs: number
}

export const DISCORD_TOKEN_CLOCK: TokenClock = { lifetimeMs: TOKEN_LIFETIME_MS, marginMs: 5_000 }

/** How long the interaction token of `target` still works: 15 minutes from the interaction's creation. */
export function tokenLeftMs(target: DiscordTarget, now: number, lifetimeMs = TOKEN_LIFETIME_MS): number {
  return target.createdAt + lifetimeMs - now
}

/** Whether a webhook call on a token created at `createdAt` is still safe to make. */
export function tokenUsable(createdAt: number, clock: TokenClock, now = Date.now()): boolean {
  return createdAt + clock.lifetimeMs - clock.marginMs > now
}
