// Why a listener could not be opened, for a person: the address, and what the error code means here.

import type { Listener } from '../types.js'
import { listenerKey } from './listener-plan.js'

const MEANINGS: Record<string, string> = {
  EADDRINUSE: 'address already in use (another process or listener has this port)',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: 'address not available (it is not an address of this host)',
  EAFNOSUPPORT: 'address family not supported on this host',
  ENOTFOUND: 'host name not found',
  ERR_SOCKET_BAD_PORT: 'port out of range',
}

export function describeBindError(listener: Listener, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const meaning = code !== undefined ? MEANINGS[code] : undefined
  const detail = meaning !== undefined ? `${meaning} [${code}]` : error instanceof Error ? error.message : String(error)
  return `cannot listen on ${listenerKey(listener)} for ${listener.service}:${listener.target}: ${detail}`
}
