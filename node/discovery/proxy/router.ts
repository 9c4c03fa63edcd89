// Chooses an endpoint for each new connection or flow and keeps the ledger true: a lease is taken
// before connecting (so a burst of connections spreads instead of all seeing the same "fewest"), and
// is settled exactly once as opened-then-closed or failed.

import type { Endpoint, EndpointSource, Listener } from '../types.js'
import type { ByteCounter, EndpointLedger } from './endpoint-ledger.js'
import { endpointKey, pickEndpoint } from './pick-endpoint.js'

export interface Lease {
  readonly endpoint: Endpoint
  /** endpointKey of the endpoint, to exclude it from the next attempt. */
  readonly key: string
  /** The connection is open; `counter` gives its bytes until `closed`. */
  opened(counter?: ByteCounter): void
  /** The connect failed (refused, timed out, unreachable): the endpoint is avoided for a while. */
  failed(reason: string): void
  /** The connection ended, or was given up before it opened for a reason that is not the endpoint's fault. */
  closed(counter?: ByteCounter): void
  /** Datagram bytes a UDP flow moved: `sent` to the endpoint, `received` from it. */
  datagrams(sent: number, received: number): void
}

export interface RouterInit {
  readonly source: EndpointSource
  readonly ledger: EndpointLedger
  readonly now: () => number
  readonly avoidFailedMs: number
  readonly log: (line: string) => void
}

export class Router {
  constructor(private readonly init: RouterInit) {}

  /**
   * The endpoints a listener's service may send to now (ready ones, local first). Tunnels carry TCP
   * only: a UDP flow cannot reach a tunnelled endpoint, so UDP leaves them out.
   */
  ready(listener: Listener): readonly Endpoint[] {
    const ready = this.init.source.ready(listener.service, listener.target, listener.protocol)
    return listener.protocol === 'udp' ? ready.filter((endpoint) => endpoint.tunnel !== true) : ready
  }

  /** A lease on the endpoint a new connection for `listener` should try; undefined when none may take it. */
  lease(listener: Listener, tried?: ReadonlySet<string>): Lease | undefined {
    const { ledger, now, avoidFailedMs, log } = this.init
    const protocol = listener.protocol
    const endpoint = pickEndpoint({ endpoints: this.ready(listener), standing: (candidate) => ledger.standing(protocol, candidate), now: now(), avoidFailedMs, tried })
    if (endpoint === undefined) return undefined
    ledger.reserve(protocol, endpoint)
    let settled = false
    let opened = false
    return {
      endpoint,
      key: endpointKey(endpoint),
      opened: (counter) => {
        if (settled || opened) return
        opened = true
        ledger.opened(protocol, endpoint, counter)
      },
      failed: (reason) => {
        if (settled) return
        settled = true
        const at = now()
        const before = ledger.standing(protocol, endpoint).failedAt
        ledger.failed(protocol, endpoint, at)
        // One line per endpoint per avoidance window: a dead endpoint must not flood the log.
        if (before === undefined || at - before >= avoidFailedMs) {
          log(`${listener.service}: ${protocol} endpoint ${endpointKey(endpoint)} failed (${reason}); avoiding it for ${avoidFailedMs} ms`)
        }
      },
      closed: (counter) => {
        if (settled) return
        settled = true
        ledger.closed(protocol, endpoint, counter)
      },
      datagrams: (sent, received) => ledger.datagrams(protocol, endpoint, sent, received),
    }
  }
}
