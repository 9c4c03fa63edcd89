// The chains the kernel forwarder owns and where they hook into the built-in ones. Every owned chain's
// name starts with the prefix (`PEER-` by default), which is how a start after a crash finds and
// removes what a dead forwarder left: nothing outside those chains is ever edited, except the one
// jump per hook below.

import { createHash } from 'node:crypto'

export type Table = 'nat' | 'filter' | 'mangle'
export const TABLES: readonly Table[] = ['nat', 'filter', 'mangle']

export interface ChainNames {
  readonly prefix: string
  /** nat, from PREROUTING and OUTPUT: matches each listener's traffic and jumps to its chain. */
  readonly services: string
  /** nat, from POSTROUTING: masquerades connections sent on to an endpoint on another host. */
  readonly postrouting: string
  /** filter, from INPUT: resets connections to listeners that have no ready endpoint. */
  readonly reject: string
  /** filter, from FORWARD: lets forwarded connections through hosts whose FORWARD policy drops (Docker's). */
  readonly forward: string
  /** mangle, from INPUT and POSTROUTING: rules with no target that only count each endpoint's bytes. */
  readonly count: string
  /** nat: one listener's DNAT rules. */
  listener(key: string): string
}

/** A prefix short enough that every chain name fits iptables' 28 characters. */
const PREFIX = /^[A-Z][A-Z0-9]{0,9}$/

export function chainNames(prefix = 'PEER'): ChainNames {
  if (!PREFIX.test(prefix)) throw new RangeError(`chain prefix: 1 to 10 capital letters or digits, starting with a letter, not ${JSON.stringify(prefix)}`)
  return {
    prefix: `${prefix}-`,
    services: `${prefix}-SERVICES`,
    postrouting: `${prefix}-POSTROUTING`,
    reject: `${prefix}-REJECT`,
    forward: `${prefix}-FORWARD`,
    count: `${prefix}-COUNT`,
    // A hash, not the address: chain names are short and may not hold ':'.
    listener: (key) => `${prefix}-L-${createHash('sha256').update(key).digest('hex').slice(0, 12).toUpperCase()}`,
  }
}

/** A jump from a built-in chain into an owned one. */
export interface Hook {
  readonly table: Table
  readonly chain: string
  /** The rule's arguments after `-A <chain>`. */
  readonly rule: string
}

/**
 * Inserted first in their chains, so no rule another program put earlier can skip them. Counting
 * happens where a packet ends on this host (INPUT) or leaves it for another (POSTROUTING, not to
 * `lo`): every packet of a connection passes exactly one of the two, whether client and endpoint
 * are local or not.
 */
export function hooks(names: ChainNames): Hook[] {
  return [
    { table: 'nat', chain: 'PREROUTING', rule: `-j ${names.services}` },
    { table: 'nat', chain: 'OUTPUT', rule: `-j ${names.services}` },
    { table: 'nat', chain: 'POSTROUTING', rule: `-j ${names.postrouting}` },
    { table: 'filter', chain: 'INPUT', rule: `-j ${names.reject}` },
    { table: 'filter', chain: 'FORWARD', rule: `-j ${names.forward}` },
    { table: 'mangle', chain: 'INPUT', rule: `-j ${names.count}` },
    { table: 'mangle', chain: 'POSTROUTING', rule: `! -o lo -j ${names.count}` },
  ]
}

/** The chains hooks() jumps to, by table: they exist, empty or not, while the forwarder is open. */
export function baseChains(names: ChainNames): Array<{ table: Table; chain: string }> {
  return [
    { table: 'nat', chain: names.services },
    { table: 'nat', chain: names.postrouting },
    { table: 'filter', chain: names.reject },
    { table: 'filter', chain: names.forward },
    { table: 'mangle', chain: names.count },
  ]
}
