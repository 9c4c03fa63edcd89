// The endpoint registry: where each service's ports can be reached, derived — never stored — from
// what every agent already knows by gossip: the desired specs, each peer's advertised tasks (with the
// host ports they bind and their state) and the address each peer is reached at. Recomputed when any
// of those change; forwarders and the DNS server read it. No new store, no new message.

import { boundPortOf, compareSlots, type PeerId, type PeerView, type ServiceName, type ServiceSpec, type TaskView } from '../../core/index.js'
import type { Endpoint, EndpointSource, ServicePort, Transport } from './types.js'

export interface RegistryInputs {
  readonly self: PeerId
  /** The desired services (current versions). */
  readonly services: readonly ServiceSpec[]
  /** Every peer this agent knows of, itself included, with the tasks it advertises. */
  readonly peers: readonly PeerView[]
  /** The IP address a peer's tasks are reached at; undefined when this agent has none for it. */
  readonly addressOf: (peer: PeerId) => string | undefined
  /**
   * Whether this agent reaches `peer` only through a relay: its libp2p link to it is relayed, which
   * libp2p falls back to only when no direct dial of the peer's host address succeeds, so that address
   * (where its tasks listen) is not routable from here. Absent: every peer is reached directly.
   */
  readonly tunnelled?: (peer: PeerId) => boolean
}

/**
 * Whether a task takes new traffic: it runs and passes its readiness check — healthy when its service
 * has a healthcheck, running when it has none (there is nothing else to go by, as in Swarm).
 */
export function isReady(task: TaskView, spec: ServiceSpec): boolean {
  return spec.healthcheck === null ? task.state === 'running' || task.state === 'healthy' : task.state === 'healthy'
}

/** Every port of every desired service, with its endpoints, sorted by service, then port. */
export function servicePorts(inputs: RegistryInputs): ServicePort[] {
  const tasks = new Map<ServiceName, Array<{ task: TaskView; peer: PeerView }>>()
  for (const peer of inputs.peers) {
    // A dead peer's tasks are gone with it; its slots are being placed elsewhere.
    if (peer.state === 'dead') continue
    for (const task of peer.tasks) (tasks.get(task.service) ?? tasks.set(task.service, []).get(task.service)!).push({ task, peer })
  }
  const ports: ServicePort[] = []
  for (const spec of [...inputs.services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const seen = new Set<string>()
    for (const port of spec.ports) {
      const key = `${port.container}/${port.protocol}`
      if (seen.has(key)) continue
      seen.add(key)
      const endpoints: Endpoint[] = []
      for (const { task, peer } of tasks.get(spec.name) ?? []) {
        const bound = boundPortOf(task.ports, port.container, port.protocol)
        const address = inputs.addressOf(peer.id)
        if (bound === undefined || address === undefined) continue
        const local = peer.id === inputs.self
        endpoints.push({
          slot: task.slot, peer: peer.id, address, port: bound, local,
          ...(!local && inputs.tunnelled?.(peer.id) === true ? { tunnel: true as const } : {}),
          ready: isReady(task, spec) && peer.state !== 'suspect', state: peer.state === 'suspect' ? `${task.state} (peer suspect)` : task.state,
        })
      }
      endpoints.sort((a, b) => compareSlots(a.slot, b.slot) || (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0))
      const published = spec.ports.find((p) => p.container === port.container && p.protocol === port.protocol && p.mode === 'ingress' && p.host > 0)?.host
      const hostPublished = spec.ports.find((p) => p.container === port.container && p.protocol === port.protocol && p.mode === undefined)?.host
      ports.push({
        service: spec.name, target: port.container, protocol: port.protocol, endpoints,
        ...(published === undefined ? {} : { published }),
        ...(hostPublished === undefined ? {} : { hostPublished }),
      })
    }
  }
  return ports
}

/** The registry an agent keeps: the last computed ports, and the ready endpoints forwarders pick from. */
export class EndpointRegistry implements EndpointSource {
  private ports: ServicePort[] = []
  private byKey = new Map<string, Endpoint[]>()
  private fingerprint = ''

  /** Recomputes from `inputs`; true when anything a forwarder or resolver sees changed. */
  update(inputs: RegistryInputs): boolean {
    const ports = servicePorts(inputs)
    const fingerprint = JSON.stringify(ports)
    if (fingerprint === this.fingerprint) return false
    this.fingerprint = fingerprint
    this.ports = ports
    this.byKey = new Map()
    for (const port of ports) {
      const ready = port.endpoints.filter((endpoint) => endpoint.ready)
      // Local endpoints first: the forwarders prefer them, and DNS lists them first.
      ready.sort((a, b) => Number(b.local) - Number(a.local))
      this.byKey.set(keyOf(port.service, port.target, port.protocol), ready)
    }
    return true
  }

  all(): readonly ServicePort[] {
    return this.ports
  }

  ready(service: ServiceName, target: number, protocol: Transport): readonly Endpoint[] {
    return this.byKey.get(keyOf(service, target, protocol)) ?? []
  }

  /** The service's ports, or undefined when no such service is desired. */
  portsOf(service: string): readonly ServicePort[] | undefined {
    const ports = this.ports.filter((port) => port.service === service)
    return ports.length > 0 ? ports : undefined
  }
}

const keyOf = (service: string, target: number, protocol: string): string => `${service} ${target}/${protocol}`
