// The vocabulary of service discovery, shared by the endpoint registry (fed by gossip), the DNS
// server and the forwarders (userspace proxy, kernel NAT rules). See docs/networking.md.

import type { PeerId, ServiceName, SlotId } from '../../core/index.js'

export type Transport = 'tcp' | 'udp'

/** One task of a service that can take traffic on one of the service's ports. */
export interface Endpoint {
  /** The task's slot: `<service>/<index>`. Stable while the task runs. */
  readonly slot: SlotId
  readonly peer: PeerId
  /** The IP address the task's host advertises (v4 or v6). */
  readonly address: string
  /** The host port that reaches the task's `target` port. */
  readonly port: number
  /** The task runs on this agent's own host. */
  readonly local: boolean
  /**
   * This agent reaches the task's peer only through a relay (another site behind NAT), so `address`
   * is not routable from here: TCP goes through a tunnel to that peer's agent (node/discovery/tunnel/).
   */
  readonly tunnel?: true
  /** Passes its readiness check (healthy, or running when the service has no healthcheck). */
  readonly ready: boolean
  /** The task's state as its peer reports it (for `peer endpoints` and `peer why`). */
  readonly state: string
}

/** One port of a service and where it can be reached. */
export interface ServicePort {
  readonly service: ServiceName
  /** The port the task listens on (the container's port; for a process, named by PEER_PORT_<target>). */
  readonly target: number
  readonly protocol: Transport
  /** Published on every peer by the routing mesh (ingress mode); absent when not published. */
  readonly published?: number
  /** Published only on the hosts that run a task (host mode): the task binds this host port itself. */
  readonly hostPublished?: number
  /** Every task of the service on this port, ready or not, sorted by slot. */
  readonly endpoints: readonly Endpoint[]
}

/** What a forwarder needs to pick where a new connection (or UDP flow) goes. */
export interface EndpointSource {
  /** Ready endpoints of the service's target port, local ones first; empty when none. */
  ready(service: ServiceName, target: number, protocol: Transport): readonly Endpoint[]
}

/** One socket a forwarder listens on and what it forwards to. */
export interface Listener {
  readonly service: ServiceName
  /** The service's port the traffic is for. */
  readonly target: number
  readonly protocol: Transport
  /** Where to listen: a published port on the agent's address, or the service's own address. */
  readonly host: string
  readonly port: number
  /** 'mesh' for a published ingress port, 'service' for the service's address (traffic by name). */
  readonly role: 'mesh' | 'service'
}

/** Whether a listener could be opened, and why not. */
export interface ListenerStatus {
  readonly listener: Listener
  readonly bound: boolean
  /** Why it is not bound (address in use, permission), for a person. */
  readonly error?: string
}

/** Traffic one forwarder sent to one endpoint since the agent started. */
export interface EndpointTraffic {
  readonly slot: SlotId
  readonly address: string
  readonly port: number
  readonly protocol: Transport
  /** Connections (TCP) or flows (UDP) now open. */
  readonly active: number
  /** Connections or flows opened in all. */
  readonly total: number
  /** Connection attempts that failed (refused, timed out): the endpoint is then avoided for a while. */
  readonly failed: number
  readonly bytesIn: number
  readonly bytesOut: number
}

/** A forwarder: the userspace proxy, or kernel NAT rules where the agent runs as root. */
export interface Forwarder {
  readonly mode: 'userspace' | 'kernel'
  /** Makes the set of listeners exactly `listeners`: opens new ones, closes removed ones (open connections are kept). */
  apply(listeners: readonly Listener[]): Promise<readonly ListenerStatus[]>
  /** The endpoints changed (readiness, moves): new connections follow at once. */
  endpointsChanged(): void
  traffic(): readonly EndpointTraffic[]
  close(): Promise<void>
}
