// A service compiled for placement: constraints parsed and label patterns compiled once, so the
// hot path (feasibility over thousands of peers) does no parsing.

import { compileConstraint, type CompiledConstraint } from '../service-spec/constraints.js'
import { missingSecrets } from '../service-spec/secrets.js'
import { hostModePorts } from '../service-spec/ports.js'
import type { Driver, PortSpec, Resources, ServiceSpec, Strategy } from '../service-spec/types.js'
import { specHash } from '../service-spec/version.js'
import type { ServiceName } from './ids.js'

export interface PlacementRequest {
  readonly service: ServiceName
  readonly specHash: string
  readonly driver: Driver
  readonly resources: Resources
  readonly constraints: readonly CompiledConstraint[]
  readonly maxPerNode: number
  /** Host ports a task binds as written (host mode): two such tasks never share a peer. */
  readonly ports: readonly PortSpec[]
  readonly strategy: Strategy
  readonly spreadBy: string
  /** Secrets the spec lists that the cluster does not hold: while any is missing, no peer may take it. */
  readonly missingSecrets: readonly string[]
}

// Specs are immutable values, so the compiled form is cached per spec object: reconcile, the planner
// and the protocol machine all ask for it, and hashing a spec is the expensive part.
const compiled = new WeakMap<ServiceSpec, PlacementRequest>()

export function placementRequest(spec: ServiceSpec): PlacementRequest {
  let request = compiled.get(spec)
  if (request === undefined) compiled.set(spec, (request = compile(spec)))
  return request
}

function compile(spec: ServiceSpec): PlacementRequest {
  const ports = hostModePorts(spec)
  return {
    service: spec.name,
    specHash: specHash(spec),
    driver: spec.driver,
    resources: spec.resources,
    constraints: spec.constraints.map(compileConstraint),
    // A task that binds fixed host ports can run only once per peer (ingress ports bind a port the
    // peer picks, so they do not limit it).
    maxPerNode: ports.length > 0 ? (spec.maxPerNode === 0 ? 1 : Math.min(1, spec.maxPerNode)) : spec.maxPerNode,
    ports,
    strategy: spec.strategy,
    spreadBy: spec.spreadBy,
    missingSecrets: missingSecrets(spec),
  }
}

/**
 * Whether a peer could ever take the service, from what does not change with load: its driver and
 * its labels (and the service's secrets existing at all). Candidate selection skips peers that fail
 * this; when every peer does, each records the service as pending with feasibility's reasons.
 */
export function couldHost(want: PlacementRequest, drivers: readonly Driver[], labels: Readonly<Record<string, string>>): boolean {
  if (want.missingSecrets.length > 0) return false
  if (!drivers.includes(want.driver)) return false
  for (const constraint of want.constraints) if (!constraint.test(labels)) return false
  return true
}
