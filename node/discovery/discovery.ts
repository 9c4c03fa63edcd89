// Service discovery on one agent: the endpoint registry (from gossip), service addresses, the DNS
// server and the forwarder (kernel NAT rules or the userspace proxy), kept in step with the desired
// state and the cluster's tasks. The agent tells it that something changed; it recomputes shortly
// after (changes come in bursts: one claim changes many adverts) and applies what differs.

import type { PeerId } from '../../core/index.js'
import type { DnsServerStats } from './dns/index.js'
import { listenersFor } from './listeners.js'
import { EndpointRegistry, type RegistryInputs } from './registry.js'
import { InputsSignature } from './inputs-signature.js'
import { dnsAddressOf, LoopbackAddresses, ServiceAddresses, type ServiceRange } from './service-addresses.js'
import type { Endpoint, EndpointSource, EndpointTraffic, Forwarder, ListenerStatus, ServicePort, Transport } from './types.js'

/** What the DNS server asks of the registry (node/discovery/dns). */
export interface DnsDirectory {
  serviceAddress(service: string): string | undefined
  srv(service: string, port: number, protocol: Transport): readonly Endpoint[] | undefined
}

export const DISCOVERY_DEFAULTS = {
  /** Changes gather this long before one recomputation: one claim changes many adverts at once. */
  settleMs: 20,
  /**
   * How long a task that takes traffic is out of the endpoints before it is signalled to stop. Its
   * advert reaches every peer in well under this (desired-state and advert gossip: ~100 ms p99 on a
   * busy 10-host LAN) and each forwarder follows within settleMs, so no new connection reaches a task
   * that is shutting down. Paid once per wave of a stop-first rolling update.
   */
  drainMs: 500,
} as const

export interface DnsServerHandle {
  readonly address: { readonly host: string; readonly port: number }
  stats(): DnsServerStats
  close(): Promise<void>
}

export type StartDns = (options: { host: string; port: number; directory: DnsDirectory; log: (line: string) => void }) => Promise<DnsServerHandle>

/** Where the DNS server listens: given by the operator (must bind) or the default (skipped when taken). */
export type DnsChoice = { readonly host?: string; readonly port: number; readonly given: boolean } | 'off'

export interface DiscoveryOptions {
  readonly self: PeerId
  readonly range: ServiceRange
  readonly dns: DnsChoice
  readonly startDns: StartDns
  /** Makes the forwarder, reading endpoints from the registry; undefined: the mesh is off (names still resolve). */
  readonly createForwarder: (source: EndpointSource) => Promise<Forwarder | undefined>
  /** Why the forwarder is in its mode (kernel unavailable, turned off), for `peer nodes`. */
  readonly modeReason?: string
  /** Where published ingress ports listen: the agent's own address. */
  readonly meshHost: string
  readonly inputs: () => RegistryInputs
  readonly log: (line: string) => void
  /** How long changes gather before one recomputation. */
  readonly settleMs?: number
}

export interface DiscoveryStatus {
  readonly mode: 'kernel' | 'userspace' | 'off'
  readonly modeReason?: string
  readonly serviceRange: string
  readonly dns: string | null
  readonly listeners: readonly ListenerStatus[]
}

/** An endpoint with the traffic this agent's forwarder sent it. */
export interface EndpointRow extends Endpoint {
  readonly traffic: Omit<EndpointTraffic, 'slot' | 'address' | 'port' | 'protocol'> | null
}

export interface ServicePortRow extends Omit<ServicePort, 'endpoints'> {
  /** This agent's address for the service (`<service>.peer`). */
  readonly serviceAddress: string | null
  readonly endpoints: readonly EndpointRow[]
  /** This agent's listeners for the port, bound or not. */
  readonly listeners: readonly ListenerStatus[]
}

export class Discovery {
  readonly registry = new EndpointRegistry()
  private readonly addresses: ServiceAddresses
  private readonly loopback: LoopbackAddresses
  private dnsServer: DnsServerHandle | undefined
  private forwarder: Forwarder | undefined
  private listenerStatus: readonly ListenerStatus[] = []
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> = Promise.resolve()
  private closed = false
  /** Services without an address when last told (sayWhenRangeFull). */
  private unaddressedSaid = 0
  /** The inputs of the last recomputation. */
  private computedFrom: InputsSignature | undefined
  /** When the registry last changed, for the endpoint-propagation figure. */
  lastChangeAt = 0

  private constructor(private readonly options: DiscoveryOptions) {
    this.addresses = new ServiceAddresses(options.range)
    this.loopback = new LoopbackAddresses(options.range, options.log)
  }

  static async open(options: DiscoveryOptions): Promise<Discovery> {
    const discovery = new Discovery(options)
    await discovery.loopback.removeStale(new Set())
    discovery.forwarder = await options.createForwarder(discovery.registry)
    if (options.dns !== 'off') {
      const host = options.dns.host ?? dnsAddressOf(options.range)
      if (options.dns.host === undefined) await discovery.loopback.add([host])
      try {
        discovery.dnsServer = await options.startDns({ host, port: options.dns.port, directory: discovery.directory(), log: options.log })
      } catch (error) {
        if (options.dns.given) {
          await discovery.close()
          throw error
        }
        options.log(`DNS for service names is off: ${(error as Error).message} (give --dns host:port to choose where)`)
      }
    }
    await discovery.refresh()
    return discovery
  }

  /** The address:port tasks reach the DNS server at (PEER_DNS), when it serves. */
  get dnsAddress(): string | undefined {
    const address = this.dnsServer?.address
    return address === undefined ? undefined : `${address.host}:${address.port}`
  }

  /**
   * Something the registry derives from may have changed: recompute soon if it did, or while a
   * listener could not bind (it is tried again on each recomputation).
   */
  changed(): void {
    if (this.closed || this.timer !== undefined) return
    if (this.computedFrom?.matches(this.options.inputs()) === true && this.listenerStatus.every((status) => status.bound)) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      void this.refresh()
    }, this.options.settleMs ?? DISCOVERY_DEFAULTS.settleMs)
    this.timer.unref()
  }

  /** Recomputes now; one run at a time, in order. */
  refresh(): Promise<void> {
    this.running = this.running.then(() => this.recompute()).catch((error: unknown) => this.options.log(`service discovery: ${(error as Error).message}`))
    return this.running
  }

  status(): DiscoveryStatus {
    return {
      mode: this.forwarder?.mode ?? 'off',
      ...(this.options.modeReason === undefined ? {} : { modeReason: this.options.modeReason }),
      serviceRange: this.options.range.cidr,
      dns: this.dnsAddress ?? null,
      listeners: this.listenerStatus,
    }
  }

  /** What this agent's forwarder sent each endpoint since it started; empty when the mesh is off. */
  traffic(): readonly EndpointTraffic[] {
    return this.forwarder?.traffic() ?? []
  }

  /** The DNS server's counts since it started; undefined when it does not serve. */
  dnsStats(): DnsServerStats | undefined {
    return this.dnsServer?.stats()
  }

  /** Every service port with its endpoints, their traffic from here, and this agent's listeners. */
  rows(service?: string): ServicePortRow[] {
    const traffic = new Map(this.traffic().map((t) => [trafficKey(t.slot, t.address, t.port, t.protocol), t]))
    return this.registry.all()
      .filter((port) => service === undefined || port.service === service)
      .map((port) => ({
        ...port,
        serviceAddress: this.addresses.addressOf(port.service) ?? null,
        endpoints: port.endpoints.map((endpoint) => {
          const t = traffic.get(trafficKey(endpoint.slot, endpoint.address, endpoint.port, port.protocol))
          return { ...endpoint, traffic: t === undefined ? null : { active: t.active, total: t.total, failed: t.failed, bytesIn: t.bytesIn, bytesOut: t.bytesOut } }
        }),
        listeners: this.listenerStatus.filter((status) => status.listener.service === port.service && status.listener.target === port.target && status.listener.protocol === port.protocol),
      }))
  }

  async close(): Promise<void> {
    this.closed = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    await this.running
    await this.dnsServer?.close().catch(() => undefined)
    await this.forwarder?.close().catch(() => undefined)
    await this.loopback.close()
  }

  private directory(): DnsDirectory {
    return {
      serviceAddress: (service) => this.addresses.addressOf(service),
      srv: (service, port, protocol) => {
        const found = this.registry.all().find((p) => p.service === service && p.target === port && p.protocol === protocol)
        // An SRV record names a host:port the client connects to itself: a tunnelled task's is not
        // routable from here (its service address is, through this agent's proxy).
        return found === undefined ? undefined : found.endpoints.filter((endpoint) => endpoint.ready && endpoint.tunnel !== true)
      },
    }
  }

  private async recompute(): Promise<void> {
    if (this.closed) return
    const inputs = this.options.inputs()
    const signature = InputsSignature.of(inputs)
    const { added, removed } = this.addresses.assign(inputs.services.map((spec) => spec.name))
    this.sayWhenRangeFull()
    await this.loopback.add(added)
    const changed = this.registry.update(inputs)
    if (changed) this.lastChangeAt = Date.now()
    const forwarder = this.forwarder
    if (forwarder !== undefined) {
      const before = new Map(this.listenerStatus.map((status) => [listenerName(status), status]))
      this.listenerStatus = await forwarder.apply(listenersFor(inputs.services, (name) => this.addresses.addressOf(name), this.options.meshHost))
      if (changed) forwarder.endpointsChanged()
      // Each listener that cannot bind is said once, when it starts failing or its reason changes.
      for (const status of this.listenerStatus) {
        if (status.bound || before.get(listenerName(status))?.error === status.error) continue
        this.options.log(`${status.listener.service}: cannot listen on ${listenerName(status)}: ${status.error ?? 'unknown error'}`)
      }
    }
    await this.loopback.remove(removed)
    // Only once all of it was applied: after a step failed, the next input the agent takes in tries again.
    this.computedFrom = signature
  }

  /** Said once when services start going without an address (and again after the range had room). */
  private sayWhenRangeFull(): void {
    const unaddressed = this.addresses.unaddressed
    if (unaddressed > 0 && this.unaddressedSaid === 0) {
      this.options.log(`service addresses: the range ${this.options.range.cidr} is full, ${unaddressed} services have none (no <service>.peer name, no service address); give a larger --service-cidr`)
    }
    this.unaddressedSaid = unaddressed
  }
}

const listenerName = (status: ListenerStatus): string => `${status.listener.host}:${status.listener.port}/${status.listener.protocol}`

const trafficKey = (slot: string, address: string, port: number, protocol: string): string => `${slot} ${address}:${port}/${protocol}`
