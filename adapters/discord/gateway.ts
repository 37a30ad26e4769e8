import { type Client, Events } from 'discord.js'

/** The gateway session's state as its shard events tell it: connecting, ready, disconnected, reconnecting. */
export function gatewayState(client: Client): () => string {
  let state = 'connecting'
  client.on(Events.ShardReady, () => {
    state = 'ready'
  })
  client.on(Events.ShardResume, () => {
    state = 'ready'
  })
  client.on(Events.ShardDisconnect, () => {
    state = 'disconnected'
  })
  client.on(Events.ShardReconnecting, () => {
    state = 'reconnecting'
  })
  return () => state
}
