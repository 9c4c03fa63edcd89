// Where the web view listens, and whether that needs the token. The rule is on the address the page is
// *bound* to, not on where a request comes from: a page bound to 0.0.0.0 answers loopback clients too,
// and a proxy on this host would make every client look local. Loopback is 127.0.0.0/8 and ::1.

import { isIPv4 } from 'node:net'
import type { MetricsListen } from '../metrics/index.js'

/** Next to /metrics' 9464; like it, a convenience: an agent that finds it taken runs on without the page. */
export const DEFAULT_UI_LISTEN: MetricsListen = { host: '127.0.0.1', port: 9465 }

export function isLoopbackHost(host: string): boolean {
  if (isIPv4(host)) return host.startsWith('127.')
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase()
  return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || bare === 'localhost'
}

/**
 * Whether a page that asks for no token (bound to loopback) answers a request with this Host header:
 * only loopback names. A web site the browser visits could otherwise point its own DNS name at
 * 127.0.0.1 (DNS rebinding) and read the page as same-origin.
 */
export function isLoopbackHostHeader(header: string | undefined): boolean {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:]+)(?::\d+)?$/.exec(header ?? '')
  return match !== null && isLoopbackHost(match[1]!)
}
