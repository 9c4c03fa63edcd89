// Where a new connection (or UDP flow) goes: a pure function of the ready endpoints and what this proxy
// knows about each. The order of the rules is the policy:
//   1. only endpoints marked ready, and not already tried for this connection;
//   2. endpoints whose connect failed within `avoidFailedMs` are skipped while any other remains
//      (gossip takes seconds to mark a dead host; the proxy learns it from one refused connect);
//   3. local endpoints first: any ready local one beats every remote one (no extra network hop); then
//      endpoints reached directly before tunnelled ones (another site: every byte crosses a relay);
//   4. the fewest connections this proxy holds open to it (least connections);
//   5. ties go to the endpoint picked longest ago (round-robin: equal endpoints share evenly);
//   6. remaining ties (never picked) go by the order the source gave.

import type { Endpoint } from '../types.js'

/** What the proxy knows about one endpoint. */
export interface EndpointStanding {
  /** Connections (or flows) this proxy has open or is opening to it. */
  readonly active: number
  /** Sequence number of the last time it was picked; -1 when never. */
  readonly lastPicked: number
  /** When (ms) its last connect failed; undefined when it never failed. */
  readonly failedAt?: number
}

export const NEVER_PICKED: EndpointStanding = { active: 0, lastPicked: -1 }

export interface PickRequest {
  readonly endpoints: readonly Endpoint[]
  /** The standing of an endpoint; endpoints this proxy never used are NEVER_PICKED. */
  readonly standing: (endpoint: Endpoint) => EndpointStanding
  readonly now: number
  readonly avoidFailedMs: number
  /** Endpoints already tried for this connection, by endpointKey. */
  readonly tried?: ReadonlySet<string>
}

/** An endpoint's identity: its slot, address and port (a task that moves is a new endpoint). */
export const endpointKey = (endpoint: Pick<Endpoint, 'slot' | 'address' | 'port'>): string => `${endpoint.slot}@${endpoint.address.includes(':') ? `[${endpoint.address}]` : endpoint.address}:${endpoint.port}`

/** The endpoint a new connection should try, or undefined when none may take it. */
export function pickEndpoint(request: PickRequest): Endpoint | undefined {
  const { now, avoidFailedMs, tried } = request
  const eligible = request.endpoints.filter((endpoint) => endpoint.ready && !(tried?.has(endpointKey(endpoint)) ?? false))
  if (eligible.length === 0) return undefined
  const standings = new Map(eligible.map((endpoint) => [endpoint, request.standing(endpoint)]))
  const failedRecently = (endpoint: Endpoint): boolean => {
    const failedAt = standings.get(endpoint)!.failedAt
    return failedAt !== undefined && now - failedAt < avoidFailedMs
  }
  const healthy = eligible.filter((endpoint) => !failedRecently(endpoint))
  const pool = healthy.length > 0 ? healthy : eligible
  const local = pool.filter((endpoint) => endpoint.local)
  const direct = pool.filter((endpoint) => endpoint.tunnel !== true)
  const group = local.length > 0 ? local : direct.length > 0 ? direct : pool
  let best = group[0]!
  for (const candidate of group.slice(1)) {
    const a = standings.get(candidate)!
    const b = standings.get(best)!
    if (a.active < b.active || (a.active === b.active && a.lastPicked < b.lastPicked)) best = candidate
  }
  return best
}
