// What a userspace proxy needs and how it is tuned. Every default says why it is what it is.

import type { TunnelOpener } from '../tunnel/index.js'
import type { EndpointSource } from '../types.js'

export interface UserspaceProxyInit {
  /** Where new connections may go: ready endpoints, local ones first. Read on every new connection or flow. */
  readonly endpoints: EndpointSource
  /**
   * Carries TCP connections to endpoints this agent reaches only through a relay (Endpoint.tunnel).
   * Absent: such endpoints fail their connect like an unreachable host, and are avoided.
   */
  readonly tunnel?: TunnelOpener
  /** One line per event a person may want to see (a listener that cannot bind, an endpoint that refused). */
  readonly log?: (line: string) => void
  /** Milliseconds; injected so tests can move time (failure memory, UDP idle expiry). */
  readonly now?: () => number
  /**
   * How long a TCP connect to an endpoint may take before the next endpoint is tried. Loopback and LAN
   * connects take well under a millisecond; a dead host (no RST, packets dropped) never answers, so this
   * is what a client waits per dead endpoint before its connection lands elsewhere. 1.5 s keeps three
   * attempts under the 5 s most clients wait, while a busy host's slow SYN-ACK still gets through.
   */
  readonly connectTimeoutMs?: number
  /**
   * The same for a tunnel: a circuit through the relay if none is open, a stream, and the far agent's
   * own connect to the task. Three round trips across the WAN and a busy far agent: 5 s.
   */
  readonly tunnelOpenTimeoutMs?: number
  /** Endpoints one new connection tries before the client is closed (3: a second dead host is rare). */
  readonly connectAttempts?: number
  /**
   * How long an endpoint whose connect failed is skipped while any other is available. Gossip marks a
   * dead peer within 2–3 s; 5 s covers that gap so one dead host costs at most one failed attempt
   * per proxy, and it is short enough that an endpoint that was only briefly overloaded comes back soon.
   */
  readonly avoidFailedMs?: number
  /** A UDP flow (one client address:port) with no datagram either way for this long is closed (30 s, the kernel's own default for a UDP conntrack entry, nf_conntrack_udp_timeout). */
  readonly udpFlowIdleMs?: number
  /** How often idle UDP flows are looked for: the idle time is exceeded by at most this much. */
  readonly udpSweepIntervalMs?: number
  /** Most UDP flows one listener keeps; past it the least recently used is closed (each holds a socket, a file descriptor). */
  readonly udpMaxFlows?: number
  /**
   * A flow whose endpoint answered before and then stays silent this long after a datagram is sent
   * moves to another endpoint at its next datagram (the endpoint is counted as failed). A flow that never
   * had an answer (one-way protocols: syslog, statsd) moves only when its endpoint stops being ready.
   */
  readonly udpReplyTimeoutMs?: number
}

export interface ProxySettings {
  readonly connectTimeoutMs: number
  readonly tunnelOpenTimeoutMs: number
  readonly connectAttempts: number
  readonly avoidFailedMs: number
  readonly udpFlowIdleMs: number
  readonly udpSweepIntervalMs: number
  readonly udpMaxFlows: number
  readonly udpReplyTimeoutMs: number
}

export const PROXY_DEFAULTS: ProxySettings = {
  connectTimeoutMs: 1500,
  tunnelOpenTimeoutMs: 5000,
  connectAttempts: 3,
  avoidFailedMs: 5000,
  udpFlowIdleMs: 30_000,
  udpSweepIntervalMs: 5000,
  udpMaxFlows: 10_000,
  udpReplyTimeoutMs: 3000,
}

/** The settings, defaults filled in; a knob that is not a positive number is a programming error. */
export function proxySettings(init: UserspaceProxyInit): ProxySettings {
  const settings: ProxySettings = {
    connectTimeoutMs: init.connectTimeoutMs ?? PROXY_DEFAULTS.connectTimeoutMs,
    tunnelOpenTimeoutMs: init.tunnelOpenTimeoutMs ?? PROXY_DEFAULTS.tunnelOpenTimeoutMs,
    connectAttempts: init.connectAttempts ?? PROXY_DEFAULTS.connectAttempts,
    avoidFailedMs: init.avoidFailedMs ?? PROXY_DEFAULTS.avoidFailedMs,
    udpFlowIdleMs: init.udpFlowIdleMs ?? PROXY_DEFAULTS.udpFlowIdleMs,
    udpSweepIntervalMs: init.udpSweepIntervalMs ?? PROXY_DEFAULTS.udpSweepIntervalMs,
    udpMaxFlows: init.udpMaxFlows ?? PROXY_DEFAULTS.udpMaxFlows,
    udpReplyTimeoutMs: init.udpReplyTimeoutMs ?? PROXY_DEFAULTS.udpReplyTimeoutMs,
  }
  for (const [name, value] of Object.entries(settings)) {
    if (!(Number.isFinite(value) && value > 0)) throw new RangeError(`UserspaceProxy: ${name} must be a positive number, got ${value}`)
  }
  if (!Number.isInteger(settings.connectAttempts) || !Number.isInteger(settings.udpMaxFlows)) {
    throw new RangeError('UserspaceProxy: connectAttempts and udpMaxFlows must be whole numbers')
  }
  return settings
}
