// Which listeners to open, keep and close to make the set exactly the wanted one: a pure function, so
// apply() is level-based (the whole wanted set every time) and an unchanged set touches no socket.

import type { Listener } from '../types.js'

/** A listener's identity: where it listens. Two listeners may not share it. */
export const listenerKey = (listener: Pick<Listener, 'host' | 'port' | 'protocol'>): string => `${listener.host.includes(':') ? `[${listener.host}]` : listener.host}:${listener.port}/${listener.protocol}`

export interface ListenerPlan {
  /** Wanted and not open: bind them. */
  readonly open: readonly Listener[]
  /** Open and wanted at the same address: keep the socket, forward as the wanted listener says. */
  readonly keep: readonly Listener[]
  /** Open and no longer wanted, by key. */
  readonly close: readonly string[]
  /** Wanted a second time at an address already listed: refused, with why; by position in `wanted`. */
  readonly duplicates: ReadonlyMap<number, string>
}

export function planListeners(openKeys: ReadonlySet<string>, wanted: readonly Listener[]): ListenerPlan {
  const first = new Map<string, Listener>()
  const duplicates = new Map<number, string>()
  wanted.forEach((listener, index) => {
    const key = listenerKey(listener)
    const earlier = first.get(key)
    if (earlier === undefined) first.set(key, listener)
    else duplicates.set(index, `cannot listen on ${key} for ${listener.service}:${listener.target}: already listened for ${earlier.service}:${earlier.target} (listed twice)`)
  })
  const open: Listener[] = []
  const keep: Listener[] = []
  for (const [key, listener] of first) (openKeys.has(key) ? keep : open).push(listener)
  const close = [...openKeys].filter((key) => !first.has(key))
  return { open, keep, close, duplicates }
}
