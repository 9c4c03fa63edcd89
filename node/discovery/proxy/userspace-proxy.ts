// The userspace forwarder: the routing mesh for agents that cannot (or may not) program the kernel.
// Every agent listens on every published port and sends each new connection or UDP flow to a ready
// task of the service, wherever it runs (pick-endpoint.ts says which). apply() is level-based: it is
// given the whole set of listeners each time and opens, keeps or closes sockets to match.

import type { EndpointTraffic, Forwarder, Listener, ListenerStatus } from '../types.js'
import { describeBindError } from './bind-error.js'
import { EndpointLedger } from './endpoint-ledger.js'
import { listenerKey, planListeners } from './listener-plan.js'
import type { ListenerTraffic, OpenListener } from './listener-traffic.js'
import { proxySettings, type ProxySettings, type UserspaceProxyInit } from './proxy-options.js'
import { Router } from './router.js'
import { TcpListener } from './tcp-listener.js'
import { UdpListener } from './udp-listener.js'

export class UserspaceProxy implements Forwarder {
  readonly mode = 'userspace' as const
  readonly #settings: ProxySettings
  readonly #ledger = new EndpointLedger()
  readonly #router: Router
  readonly #now: () => number
  readonly #log: (line: string) => void
  readonly #tunnel: UserspaceProxyInit['tunnel']
  readonly #open = new Map<string, OpenListener>()
  /** Removed listeners whose connections are still open: close() must end those too. */
  readonly #draining = new Set<OpenListener>()
  /** The last bind error of each listener that could not bind: apply() retries it, the log says it once. */
  readonly #bindErrors = new Map<string, string>()
  /** apply() calls run one after another: two overlapping ones must not both bind one address. */
  #applying: Promise<unknown> = Promise.resolve()
  #closed = false

  constructor(init: UserspaceProxyInit) {
    this.#settings = proxySettings(init)
    this.#now = init.now ?? Date.now
    this.#log = init.log ?? (() => undefined)
    this.#tunnel = init.tunnel
    this.#router = new Router({ source: init.endpoints, ledger: this.#ledger, now: this.#now, avoidFailedMs: this.#settings.avoidFailedMs, log: this.#log })
  }

  apply(listeners: readonly Listener[]): Promise<readonly ListenerStatus[]> {
    const applied = this.#applying.then(() => this.#apply(listeners))
    this.#applying = applied.catch(() => undefined)
    return applied
  }

  /**
   * Nothing to forget: every new connection and flow asks the endpoint source afresh, and the ledger
   * holds only counts. Open connections and flows stay where they are (they drain).
   */
  endpointsChanged(): void {}

  traffic(): readonly EndpointTraffic[] {
    return this.#ledger.traffic()
  }

  /** Per listener: connections (TCP) or flows (UDP) accepted, and those that found no endpoint. */
  listenerTraffic(): readonly ListenerTraffic[] {
    return [...this.#open.values()].map((open) => open.traffic())
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#applying
    for (const open of [...this.#open.values(), ...this.#draining]) open.destroy()
    this.#open.clear()
    this.#draining.clear()
  }

  async #apply(listeners: readonly Listener[]): Promise<readonly ListenerStatus[]> {
    if (this.#closed) throw new Error('UserspaceProxy: apply() after close()')
    const plan = planListeners(new Set(this.#open.keys()), listeners)
    for (const draining of this.#draining) if (draining.drained) this.#draining.delete(draining)
    for (const key of plan.close) {
      const removed = this.#open.get(key)!
      removed.stopAccepting()
      this.#open.delete(key)
      if (!removed.drained) this.#draining.add(removed)
    }
    // By listener key; the first listener wanted at an address is the one that has it.
    const status = new Map<string, ListenerStatus>()
    for (const listener of plan.keep) {
      this.#open.get(listenerKey(listener))!.listener = listener
      status.set(listenerKey(listener), { listener, bound: true })
    }
    // Bound concurrently: one slow or failing listener does not hold up the others.
    await Promise.all(plan.open.map(async (listener) => {
      try {
        const open = listener.protocol === 'tcp'
          ? await TcpListener.open(listener, this.#router, this.#settings, this.#tunnel)
          : await UdpListener.open(listener, this.#router, this.#settings, this.#now)
        this.#open.set(listenerKey(listener), open)
        this.#bindErrors.delete(listenerKey(listener))
        status.set(listenerKey(listener), { listener, bound: true })
      } catch (error) {
        const message = describeBindError(listener, error)
        if (this.#bindErrors.get(listenerKey(listener)) !== message) this.#log(message)
        this.#bindErrors.set(listenerKey(listener), message)
        status.set(listenerKey(listener), { listener, bound: false, error: message })
      }
    }))
    for (const key of this.#bindErrors.keys()) if (!plan.open.some((listener) => listenerKey(listener) === key)) this.#bindErrors.delete(key)
    return listeners.map((listener, index) => {
      const duplicate = plan.duplicates.get(index)
      return duplicate === undefined ? status.get(listenerKey(listener))! : { listener, bound: false, error: duplicate }
    })
  }
}
