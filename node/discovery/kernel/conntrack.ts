// Open connections from the kernel's connection tracking table. NAT rules count a connection once,
// when it opens; how many are open now is only known to conntrack. /proc/net/nf_conntrack lists the
// entries of this network namespace; no `conntrack` tool is needed.

import { readFile } from 'node:fs/promises'

export const CONNTRACK_TABLE = '/proc/net/nf_conntrack'

export interface TrackedConnection {
  readonly protocol: string
  /** TCP state (ESTABLISHED, TIME_WAIT, …); undefined for UDP. */
  readonly state: string | undefined
  /** Where the client sent it: the listener's address and port. */
  readonly originalDestination: string
  readonly originalPort: number
  /** Who answers: the endpoint after DNAT. */
  readonly replySource: string
  readonly replyPort: number
}

/** Parses the table's lines: `ipv4 2 tcp 6 431999 ESTABLISHED src=… dst=… sport=… dport=… src=… …`. */
export function parseConntrack(text: string): TrackedConnection[] {
  const found: TrackedConnection[] = []
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/)
    if (words[0] !== 'ipv4' || words.length < 6) continue
    const protocol = words[2]!
    const state = /^[A-Z_]+$/.test(words[5]!) ? words[5] : undefined
    const values = (key: string): string[] => words.filter((word) => word.startsWith(`${key}=`)).map((word) => word.slice(key.length + 1))
    const [, replySource] = values('src')
    const [originalDestination] = values('dst')
    const [originalPort] = values('dport')
    const [, replyPort] = values('sport')
    if (replySource === undefined || originalDestination === undefined || originalPort === undefined || replyPort === undefined) continue
    found.push({ protocol, state, originalDestination, originalPort: Number(originalPort), replySource, replyPort: Number(replyPort) })
  }
  return found
}

/** The table's entries, or undefined when this kernel does not expose it (no nf_conntrack). */
export async function readConntrack(path = CONNTRACK_TABLE): Promise<TrackedConnection[] | undefined> {
  try {
    return parseConntrack(await readFile(path, 'utf8'))
  } catch {
    return undefined
  }
}

/** Counts as open: an established TCP connection, or any UDP flow the table still holds. */
export const isOpen = (connection: TrackedConnection): boolean => connection.protocol === 'udp' || connection.state === 'ESTABLISHED'
