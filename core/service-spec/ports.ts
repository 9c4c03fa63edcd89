// Ports as the rest of peer sees them: which ones a task binds on its own host (placement keeps two
// such tasks apart), which ones every peer publishes (the routing mesh), and the host port each task
// really binds. An ingress port's task binds a port its peer picks, not the published one: the mesh
// already listens on the published port on every peer, the task's own host included, and two
// replicas on one peer must not fight over one port.

import { hash32 } from '../hash.js'
import type { PortSpec, ServiceSpec } from './types.js'

/**
 * Host ports a peer gives the tasks of ingress ports (as Nomad's dynamic ports: below Linux's
 * ephemeral range, 32768–60999, so an outgoing connection never holds one). A port published in
 * ingress mode may not lie in it.
 */
export const TASK_PORT_RANGE = { first: 20_000, last: 32_000 } as const

export const isIngress = (port: PortSpec): boolean => port.mode === 'ingress'

/** The ports a task binds on its own host by itself: host mode. */
export function hostModePorts(spec: Pick<ServiceSpec, 'ports'>): PortSpec[] {
  return spec.ports.filter((port) => !isIngress(port))
}

/** `port/protocol`, the key two bound ports clash on. */
export const portKey = (port: number, protocol: string): string => `${port}/${protocol}`

/**
 * The host ports a new task of `spec` binds: host-mode ports as written, and for each ingress port
 * the first port of TASK_PORT_RANGE not in `taken` (ports the peer's other tasks hold), probing from
 * a point that `seed` (the slot and version) picks — so a replacement seldom reuses the port of the
 * task it replaces, which may still be draining. Every entry is in host mode: it says what is bound.
 * undefined when the range is full.
 */
export function taskPorts(spec: Pick<ServiceSpec, 'ports'>, taken: ReadonlySet<string>, seed: string): PortSpec[] | undefined {
  const bound: PortSpec[] = []
  const used = new Set(taken)
  const size = TASK_PORT_RANGE.last - TASK_PORT_RANGE.first + 1
  let offset = hash32(seed) % size
  for (const port of spec.ports) {
    if (!isIngress(port)) {
      bound.push({ host: port.host, container: port.container, protocol: port.protocol })
      continue
    }
    let chosen: number | undefined
    for (let tried = 0; tried < size && chosen === undefined; tried++) {
      const candidate = TASK_PORT_RANGE.first + ((offset + tried) % size)
      if (!used.has(portKey(candidate, port.protocol))) chosen = candidate
    }
    if (chosen === undefined) return undefined
    used.add(portKey(chosen, port.protocol))
    offset = chosen - TASK_PORT_RANGE.first + 1
    bound.push({ host: chosen, container: port.container, protocol: port.protocol })
  }
  return bound
}

/**
 * Whether `bound` (a task's ports as it advertises them) is what `taskPorts` could have given a task
 * of `spec`: the same container ports in order, host-mode ones on their written host port and
 * ingress ones inside TASK_PORT_RANGE. A task restored from disk is checked against its spec so.
 */
export function boundPortsFit(spec: Pick<ServiceSpec, 'ports'>, bound: readonly PortSpec[]): boolean {
  if (bound.length !== spec.ports.length) return false
  return spec.ports.every((port, i) => {
    const task = bound[i]!
    if (task.container !== port.container || task.protocol !== port.protocol || task.mode !== undefined) return false
    return isIngress(port) ? task.host >= TASK_PORT_RANGE.first && task.host <= TASK_PORT_RANGE.last : task.host === port.host
  })
}

/** The host port a task binds for its container port `target`, from the ports it advertises. */
export function boundPortOf(bound: readonly PortSpec[], target: number, protocol: string): number | undefined {
  return bound.find((port) => port.container === target && port.protocol === protocol)?.host
}
