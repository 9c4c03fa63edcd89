// The kernel forwarder: listeners become NAT rules in chains this forwarder owns, so connections are
// redirected by the kernel and never pass through the agent. Every sync computes the whole rule set
// from the listeners and the ready endpoints (rules.ts) and writes only the chains that changed, each
// in one iptables-restore transaction. Syncs run one at a time; endpoint changes that arrive during
// one are coalesced into the next.

import type { EndpointSource, EndpointTraffic, Forwarder, Listener, ListenerStatus } from '../types.js'
import { baseChains, chainNames, hooks, type ChainNames } from './chains.js'
import { readConntrack } from './conntrack.js'
import { IPTABLES, iptablesRestore, iptablesSave, type IptablesCommands } from './iptables.js'
import { changes, counters, installInput, missingRules, ownedState, removalInputs } from './restore.js'
import { ANY_ADDRESS, desiredRules, listenerKey, type ChainSet, type ListenerRoute } from './rules.js'
import { boundSockets, socketInTheWay, type BoundSocket } from './sockets.js'
import { IP_FORWARD, ROUTE_LOCALNET, SysctlSwitches } from './sysctl.js'
import { TrafficLedger } from './traffic.js'

export interface KernelForwarderInit {
  /** Owned chains are named `<prefix>-…`; everything so named is removed at start and close. Default PEER. */
  readonly chainPrefix?: string
  readonly iptables?: IptablesCommands
  /**
   * traffic() answers at once from the last read of the counters and starts a new read when that one
   * is older than this. Reading runs iptables-save (a few ms), too slow to do on every call. Default 1 s.
   */
  readonly trafficMaxAgeMs?: number
  /** After a sync failed (iptables busy, a rule refused), the next try. Default 1 s. */
  readonly retryMs?: number
  /** Told about background failures (a sync after endpointsChanged() that could not be written). */
  readonly log?: (message: string) => void
  /**
   * How often the rules are read back and written again whole if something else removed part of
   * them (a firewall reload, `iptables -F`). One iptables-save per check. Default 10 s.
   */
  readonly checkIntervalMs?: number
}

const emptyChains = (): ChainSet => ({ nat: new Map(), filter: new Map(), mangle: new Map() })

export class KernelForwarder implements Forwarder {
  readonly mode = 'kernel' as const
  readonly #source: EndpointSource
  readonly #names: ChainNames
  readonly #iptables: IptablesCommands
  readonly #trafficMaxAgeMs: number
  readonly #retryMs: number
  readonly #checkIntervalMs: number
  #checker: NodeJS.Timeout | undefined
  readonly #log: (message: string) => void
  readonly #switches = new SysctlSwitches()
  readonly #ledger = new TrafficLedger()
  #listeners: readonly Listener[] = []
  #applied: ChainSet = emptyChains()
  #statuses: readonly ListenerStatus[] = []
  #routes: readonly ListenerRoute[] = []
  /** Keys of the listeners whose rules are in place: checked for sockets in the way only once, when new. */
  #bound = new Set<string>()
  /** Every iptables read or write runs after the one before (a counter read must not interleave a rewrite). */
  #queue: Promise<unknown> = Promise.resolve()
  #dirty = false
  #syncing: Promise<void> | undefined
  #retry: NodeJS.Timeout | undefined
  #trafficReadAt = -Infinity
  #trafficReading = false
  #closed = false

  private constructor(source: EndpointSource, init: KernelForwarderInit) {
    this.#source = source
    this.#names = chainNames(init.chainPrefix)
    this.#iptables = init.iptables ?? IPTABLES
    this.#trafficMaxAgeMs = init.trafficMaxAgeMs ?? 1_000
    this.#retryMs = init.retryMs ?? 1_000
    this.#checkIntervalMs = init.checkIntervalMs ?? 10_000
    this.#log = init.log ?? (() => {})
  }

  /**
   * Removes whatever owned chains a forwarder that did not close left behind (a crash), then creates
   * the base chains and hooks them in. Check kernelForwardingAvailable() first for a readable reason.
   */
  static async start(source: EndpointSource, init: KernelForwarderInit = {}): Promise<KernelForwarder> {
    const forwarder = new KernelForwarder(source, init)
    await forwarder.#install()
    forwarder.#checker = setInterval(() => void forwarder.#check(), forwarder.#checkIntervalMs).unref()
    return forwarder
  }

  /** The chain names this forwarder writes (for `peer why`, docs and tests). */
  get chains(): ChainNames {
    return this.#names
  }

  async apply(listeners: readonly Listener[]): Promise<readonly ListenerStatus[]> {
    this.#assertOpen()
    this.#listeners = [...listeners]
    await this.#sync()
    return this.#statuses
  }

  endpointsChanged(): void {
    if (this.#closed) return
    void this.#sync()
  }

  /** Resolves when the rules reflect every apply() and endpointsChanged() made so far (or a sync failed). */
  async settled(): Promise<void> {
    await this.#syncing
  }

  traffic(): readonly EndpointTraffic[] {
    if (!this.#closed && !this.#trafficReading && Date.now() - this.#trafficReadAt > this.#trafficMaxAgeMs) {
      this.#trafficReading = true
      void this.refreshTraffic().catch((error: Error) => this.#log(`kernel forwarder: reading counters: ${error.message}`)).finally(() => (this.#trafficReading = false))
    }
    return this.#ledger.traffic()
  }

  /** Reads the counters and connection table now, then answers as traffic() does. */
  async refreshTraffic(): Promise<readonly EndpointTraffic[]> {
    this.#assertOpen()
    await this.#exclusive(() => this.#readTraffic())
    return this.#ledger.traffic()
  }

  /** The sysctls this forwarder set, with the values they go back to on close(). */
  sysctlsChanged(): ReadonlyMap<string, string> {
    return this.#switches.changed()
  }

  /** Removes every owned rule and chain and puts back the sysctls it changed. Connections already redirected keep flowing. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    clearTimeout(this.#retry)
    clearInterval(this.#checker)
    await this.#syncing?.catch(() => {})
    await this.#exclusive(async () => {
      await this.#removeOwned()
      await this.#switches.restoreAll()
      this.#applied = emptyChains()
      this.#bound.clear()
    })
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('the kernel forwarder is closed')
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work)
    this.#queue = run.catch(() => {})
    return run
  }

  /** Runs syncs until no change is left over; callers share the run in progress. */
  #sync(): Promise<void> {
    this.#dirty = true
    this.#syncing ??= (async () => {
      try {
        while (this.#dirty && !this.#closed) {
          this.#dirty = false
          await this.#exclusive(() => this.#syncOnce())
        }
      } finally {
        this.#syncing = undefined
      }
    })()
    return this.#syncing
  }

  async #syncOnce(): Promise<void> {
    const fresh = this.#listeners.filter((listener) => !this.#bound.has(listenerKey(listener)))
    const sockets: readonly BoundSocket[] = fresh.length > 0 ? await boundSockets() : []
    const inTheWay = (listener: Listener): string | undefined => {
      if (this.#bound.has(listenerKey(listener)) || socketInTheWay(listener, sockets) === undefined) return undefined
      const where = listener.host === ANY_ADDRESS ? `port ${listener.port}` : `${listener.host}:${listener.port}`
      return `${listener.protocol} ${where} is in use by a socket on this host (address in use)`
    }
    const desired = desiredRules(this.#listeners, this.#source, this.#names, inTheWay)
    try {
      // Switches on before the rules that need them, off only after those rules are gone.
      if (desired.routeLocalnet) await this.#switches.want(ROUTE_LOCALNET, true)
      if (desired.ipForward) await this.#switches.want(IP_FORWARD, true)
      const { rewrite, remove, replaced } = changes(this.#applied, desired.chains)
      // The figures of rules about to be replaced are read just before: what arrives in between is lost.
      if (replaced.size > 0) this.#ledger.read(counters(await iptablesSave(this.#iptables, true), this.#names))
      if (rewrite !== undefined) await iptablesRestore(this.#iptables, rewrite)
      if (remove !== undefined) await iptablesRestore(this.#iptables, remove)
      this.#ledger.retire(replaced)
      this.#applied = desired.chains
      if (!desired.routeLocalnet) await this.#switches.want(ROUTE_LOCALNET, false)
      if (!desired.ipForward) await this.#switches.want(IP_FORWARD, false)
      this.#statuses = desired.statuses
      this.#routes = desired.routes
      this.#bound = new Set(desired.statuses.filter((status) => status.bound).map((status) => listenerKey(status.listener)))
    } catch (error) {
      const message = (error as Error).message
      this.#statuses = desired.statuses.map((status) => (status.bound ? { ...status, bound: false, error: `kernel rules not written: ${message}` } : status))
      this.#log(`kernel forwarder: sync failed, retrying in ${this.#retryMs} ms: ${message}`)
      clearTimeout(this.#retry)
      this.#retry = setTimeout(() => this.endpointsChanged(), this.#retryMs).unref()
    }
  }

  async #readTraffic(): Promise<void> {
    const save = await iptablesSave(this.#iptables, true)
    this.#ledger.read(counters(save, this.#names))
    this.#ledger.track((await readConntrack()) ?? [], this.#routes)
    this.#trafficReadAt = Date.now()
  }

  /** Removes whatever owned rules are there, then makes the base chains (empty) and hooks them in. */
  async #install(): Promise<void> {
    await this.#removeOwned()
    await iptablesRestore(this.#iptables, installInput(hooks(this.#names), baseChains(this.#names)))
    this.#applied = emptyChains()
    for (const { table, chain } of baseChains(this.#names)) (this.#applied[table] as Map<string, readonly string[]>).set(chain, [])
  }

  /** Reads the rules back; if part of them is gone, writes them all again (level-based, as every sync). */
  async #check(): Promise<void> {
    try {
      const rewritten = await this.#exclusive(async () => {
        if (this.#closed) return false
        const missing = missingRules(ownedState(await iptablesSave(this.#iptables), this.#names), hooks(this.#names), this.#applied)
        if (missing === undefined) return false
        this.#log(`kernel forwarder: ${missing}; writing every rule again`)
        await this.#install()
        return true
      })
      if (rewritten) await this.#sync()
    } catch (error) {
      this.#log(`kernel forwarder: checking the rules: ${(error as Error).message}`)
    }
  }

  /** Deletes every chain named with the prefix and every jump to one, whoever left them. */
  async #removeOwned(): Promise<void> {
    const state = ownedState(await iptablesSave(this.#iptables), this.#names)
    for (const input of removalInputs(state)) if (input !== undefined) await iptablesRestore(this.#iptables, input)
  }
}
