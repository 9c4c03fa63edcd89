// What one listener did, beyond the per-endpoint traffic: connections that found no endpoint.

import type { Listener } from '../types.js'

export interface ListenerTraffic {
  readonly listener: Listener
  /** TCP connections accepted, or UDP flows started, since the listener opened. */
  readonly accepted: number
  /** Of those, closed (TCP: reset) or dropped (UDP) because no endpoint was ready or every attempt failed. */
  readonly unrouted: number
}

/** A socket the proxy listens on, whatever its protocol. */
export interface OpenListener {
  /** What it forwards to; replaced in place when apply() keeps the address but changes the service. */
  listener: Listener
  /** Stops taking new connections; TCP connections already open keep flowing. */
  stopAccepting(): void
  /** Stops taking new connections and closes every open one. */
  destroy(): void
  /** No connection is open any more (after stopAccepting, it can be forgotten). */
  readonly drained: boolean
  traffic(): ListenerTraffic
}
