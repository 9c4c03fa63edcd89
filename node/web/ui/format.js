// How numbers, times and ids read on the page: the same units as `peer top` and `peer nodes`.

/**
 * Peer ids are long and all start alike (12D3KooW…): their last 12 characters tell the peers of a
 * cluster apart, as the CLI shows them (cli/agent-client.ts shortPeer).
 */
export const shortPeer = (peer) => (peer ?? '').slice(-12)

export const cpu = (milli) => (milli === null || milli === undefined ? '-' : `${Math.round(milli)}m`)
export const memory = (mib) => (mib === null || mib === undefined ? '-' : mib >= 10240 ? `${(mib / 1024).toFixed(1)}Gi` : `${Math.round(mib)}Mi`)

/** `12s ago`, `4m ago`, `2h ago` from a time in ms since the epoch. */
export function ago(at, now = Date.now()) {
  if (at === null || at === undefined) return 'never'
  const seconds = Math.max(0, Math.round((now - at) / 1000))
  if (seconds < 60) return `${seconds}s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`
  return `${Math.floor(seconds / 3600)}h ago`
}

export const clock = (at) => new Date(at).toLocaleTimeString()

/** A share of a whole, 0–100, for the bars; 0 when there is no whole. */
export const percent = (part, whole) => (whole > 0 && part !== null && part !== undefined ? Math.min(100, (part / whole) * 100) : 0)

/** Task states that count as up, as `peer ps` counts them. */
export const isUp = (state) => state === 'running' || state === 'healthy'
