// Ports published on every peer belong to one service cluster-wide: the routing mesh listens on an
// ingress port on every peer, so no other service may publish it in any mode, and two ingress
// services may not share one. (Two host-mode services may: placement keeps their tasks apart.)

import type { PortSpec, ServiceSpec } from './types.js'

export interface PortClash {
  readonly service: string
  /** Where in `service`'s spec: `ports[i]`. */
  readonly path: string
  readonly port: number
  readonly protocol: string
  /** The service that already publishes it. */
  readonly other: string
}

/**
 * The first port of `incoming` that clashes with a port published on every peer — by another service
 * of `incoming`, or by one of `existing` that `incoming` does not replace — or one of theirs that an
 * incoming ingress port would take. undefined when none.
 */
export function publishedPortClash(incoming: readonly ServiceSpec[], existing: readonly ServiceSpec[]): PortClash | undefined {
  const replaced = new Set(incoming.map((spec) => spec.name))
  const all = [...existing.filter((spec) => !replaced.has(spec.name)), ...incoming]
  const meshOwner = new Map<string, string>()
  for (const spec of all) for (const port of spec.ports) if (isMesh(port) && !meshOwner.has(keyOf(port))) meshOwner.set(keyOf(port), spec.name)
  for (const spec of incoming) {
    for (const [i, port] of spec.ports.entries()) {
      if (port.host === 0) continue
      const owner = meshOwner.get(keyOf(port))
      if (owner !== undefined && owner !== spec.name) return { service: spec.name, path: `ports[${i}]`, port: port.host, protocol: port.protocol, other: owner }
      // An incoming host-mode port that an ingress port of an existing service already holds is
      // caught above; an incoming ingress port taken by another's host-mode port is caught here.
      if (isMesh(port)) {
        const other = all.find((candidate) => candidate.name !== spec.name && candidate.ports.some((p) => !isMesh(p) && p.host === port.host && p.protocol === port.protocol))
        if (other !== undefined) return { service: spec.name, path: `ports[${i}]`, port: port.host, protocol: port.protocol, other: other.name }
      }
    }
  }
  return undefined
}

const isMesh = (port: PortSpec): boolean => port.mode === 'ingress' && port.host > 0
const keyOf = (port: PortSpec): string => `${port.host}/${port.protocol}`
