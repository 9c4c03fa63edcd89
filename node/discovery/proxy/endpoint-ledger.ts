// What this proxy sent to each endpoint and how each is doing: the counters `traffic()` reports and the
// standing `pickEndpoint` decides by. One entry per protocol and endpoint (slot, address, port), kept
// since the proxy started. TCP bytes are read from the open sockets' own counters when asked, so
// forwarding does no per-chunk bookkeeping.

import type { Endpoint, EndpointTraffic, Transport } from '../types.js'
import { endpointKey, NEVER_PICKED, type EndpointStanding } from './pick-endpoint.js'

/** Something that counts its own bytes: a TCP socket to an endpoint. */
export interface ByteCounter {
  readonly bytesRead: number
  readonly bytesWritten: number
}

interface Entry {
  readonly slot: Endpoint['slot']
  readonly address: string
  readonly port: number
  readonly protocol: Transport
  active: number
  total: number
  failed: number
  /** Bytes received from the endpoint by connections already closed, and by UDP flows. */
  bytesIn: number
  /** Bytes sent to the endpoint, likewise. */
  bytesOut: number
  lastPicked: number
  failedAt?: number
  readonly open: Set<ByteCounter>
}

export class EndpointLedger {
  readonly #entries = new Map<string, Entry>()
  #picks = 0

  standing(protocol: Transport, endpoint: Endpoint): EndpointStanding {
    return this.#entries.get(ledgerKey(protocol, endpoint)) ?? NEVER_PICKED
  }

  /** A connection (or flow) is being opened to the endpoint: it counts as active from now on. */
  reserve(protocol: Transport, endpoint: Endpoint): void {
    const entry = this.#entry(protocol, endpoint)
    entry.active++
    entry.lastPicked = this.#picks++
  }

  /** The reserved connection is open; `counter` is read for its bytes until `closed`. */
  opened(protocol: Transport, endpoint: Endpoint, counter?: ByteCounter): void {
    const entry = this.#entry(protocol, endpoint)
    entry.total++
    if (counter !== undefined) entry.open.add(counter)
  }

  /** The reserved connection could not be opened: the endpoint is avoided for a while. */
  failed(protocol: Transport, endpoint: Endpoint, at: number): void {
    const entry = this.#entry(protocol, endpoint)
    entry.active--
    entry.failed++
    entry.failedAt = at
  }

  /** An open connection (or flow) ended. */
  closed(protocol: Transport, endpoint: Endpoint, counter?: ByteCounter): void {
    const entry = this.#entry(protocol, endpoint)
    entry.active--
    if (counter !== undefined && entry.open.delete(counter)) {
      entry.bytesIn += counter.bytesRead
      entry.bytesOut += counter.bytesWritten
    }
  }

  /** Datagram bytes a UDP flow moved: `sent` to the endpoint, `received` from it. */
  datagrams(protocol: Transport, endpoint: Endpoint, sent: number, received: number): void {
    const entry = this.#entry(protocol, endpoint)
    entry.bytesOut += sent
    entry.bytesIn += received
  }

  traffic(): EndpointTraffic[] {
    return [...this.#entries.values()].map((entry) => {
      let bytesIn = entry.bytesIn
      let bytesOut = entry.bytesOut
      for (const counter of entry.open) {
        bytesIn += counter.bytesRead
        bytesOut += counter.bytesWritten
      }
      return { slot: entry.slot, address: entry.address, port: entry.port, protocol: entry.protocol, active: entry.active, total: entry.total, failed: entry.failed, bytesIn, bytesOut }
    })
  }

  #entry(protocol: Transport, endpoint: Endpoint): Entry {
    const key = ledgerKey(protocol, endpoint)
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      entry = { slot: endpoint.slot, address: endpoint.address, port: endpoint.port, protocol, active: 0, total: 0, failed: 0, bytesIn: 0, bytesOut: 0, lastPicked: -1, open: new Set() }
      this.#entries.set(key, entry)
    }
    return entry
  }
}

const ledgerKey = (protocol: Transport, endpoint: Endpoint): string => `${protocol} ${endpointKey(endpoint)}`
