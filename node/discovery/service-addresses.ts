// Service addresses: each service gets an address on every agent — the same on all of them when
// nothing collides, since it comes from a hash of the name — on which the agent forwards the
// service's ports to its tasks. `<service>.peer` resolves to it, so a client names the service and
// the agent picks the task (a Swarm VIP without an overlay). The range's first address is the
// agent's DNS server.
//
// Without containers the default range is 127.77.0.0/16: loopback, so it needs no privilege and
// touches no interface, but only processes on the host reach it. Containers on a bridge network reach
// the host only by a non-loopback address, so an agent that runs containers as root defaults to a
// private range (10.253.0.0/16) that it adds to `lo` as /32 addresses (removed again when the service
// goes or the agent stops), as kube-proxy's IPVS mode does with its dummy interface. Two agents on one machine need
// two ranges (`peer up --local` gives each its own /24).

import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { hash32 } from '../../core/index.js'

const run = promisify(execFile)

export interface ServiceRange {
  /** The range as written, e.g. 127.77.0.0/16. */
  readonly cidr: string
  /** The network address as a 32-bit number. */
  readonly base: number
  readonly size: number
  /** Inside 127.0.0.0/8: nothing to add to an interface. */
  readonly loopback: boolean
}

/** The range when processes are all that need it: loopback, no privilege, no interface touched. */
export const DEFAULT_SERVICE_CIDR = '127.77.0.0/16'

/**
 * The range when the agent runs containers as root: containers reach the host only by a
 * non-loopback address, and a compose file's `redis:6379` must resolve and connect in a container as
 * it does under Swarm. Private and rarely routed (kube-proxy's default is 10.96.0.0/12, Swarm's
 * overlays 10.0.0.0/8); a host whose network uses it gives another with --service-cidr.
 */
export const CONTAINER_SERVICE_CIDR = '10.253.0.0/16'

/** The default range: CONTAINER_SERVICE_CIDR where containers run and the agent may add addresses, else loopback. */
export function defaultServiceCidr(runsContainers: boolean, root: boolean): string {
  return runsContainers && root ? CONTAINER_SERVICE_CIDR : DEFAULT_SERVICE_CIDR
}

/** Parses an IPv4 range `a.b.c.d/n` (n from 8 to 28); a message naming what is wrong otherwise. */
export function parseServiceRange(cidr: string): ServiceRange | string {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim())
  if (match === null) return `expected an IPv4 range such as 127.77.0.0/16, not ${JSON.stringify(cidr)}`
  const octets = match.slice(1, 5).map(Number)
  const bits = Number(match[5])
  if (octets.some((octet) => octet > 255)) return `${JSON.stringify(cidr)} is not an IPv4 address range`
  if (bits < 8 || bits > 28) return `the range ${cidr} must have a prefix from /8 to /28 (room for services, not more than a /8)`
  const address = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0
  const size = 2 ** (32 - bits)
  const base = (address - (address % size)) >>> 0
  if (base !== address) return `${cidr} is not the start of its range (did you mean ${ipOf(base)}/${bits}?)`
  return { cidr, base, size, loopback: octets[0] === 127 }
}

export const ipOf = (value: number): string => [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.')

/** The DNS server's address in the range: its first host address. */
export const dnsAddressOf = (range: ServiceRange): string => ipOf(range.base + 1)

/**
 * Stable addresses for service names: a hash of the name picks the address, the next free one on a
 * collision. An address stays its service's while the service is desired, so a client holding it
 * keeps working; a service that goes frees it.
 */
export class ServiceAddresses {
  private readonly byService = new Map<string, string>()
  /** Offsets (from the range's base) of the addresses given out. */
  private readonly taken = new Set<number>()
  /** Offsets 0 (the network), 1 (the DNS server) and size-1 (broadcast) are not given out. */
  private readonly usable: number
  private waiting = 0

  constructor(readonly range: ServiceRange) {
    this.usable = range.size - 3
  }

  /** Makes the set of services `names`; returns the addresses that came and went. */
  assign(names: Iterable<string>): { added: string[]; removed: string[] } {
    const wanted = new Set(names)
    const removed: string[] = []
    for (const [service, address] of this.byService) {
      if (wanted.has(service)) continue
      this.byService.delete(service)
      this.taken.delete(offsetIn(this.range, address))
      removed.push(address)
    }
    const added: string[] = []
    const unaddressed = [...wanted].filter((service) => !this.byService.has(service))
    this.waiting = unaddressed.length
    // The discovery recomputes this on every change of the desired state or of any advert, with every
    // service name. Services left without an address because the range is full stay in that list, and
    // each used to probe the whole range again for nothing: 2,000 services in a /24 (a local cluster's
    // range) made 1,747 scans of 253 addresses per recomputation, most of an apply's time (≈ 150 ms of
    // 200; BENCHMARKS.md, "Three agents under desired-state load"). A full range gives nothing: stop.
    if (this.taken.size >= this.usable) return { added, removed }
    // Sorted, so that two agents with the same services resolve collisions alike.
    for (const service of unaddressed.sort()) {
      const offset = this.pick(service)
      if (offset === undefined) break
      const address = ipOf(this.range.base + offset)
      this.byService.set(service, address)
      this.taken.add(offset)
      added.push(address)
      this.waiting--
    }
    return { added, removed }
  }

  addressOf(service: string): string | undefined {
    return this.byService.get(service)
  }

  all(): ReadonlyMap<string, string> {
    return this.byService
  }

  /** Desired services the range had no address left for, as of the last assign. */
  get unaddressed(): number {
    return this.waiting
  }

  /** The hashed offset of `service`, else the next free one; undefined when the range is full. */
  private pick(service: string): number | undefined {
    if (this.taken.size >= this.usable) return undefined
    const start = hash32(service) % this.usable
    for (let i = 0; i < this.usable; i++) {
      const offset = 2 + ((start + i) % this.usable)
      if (!this.taken.has(offset)) return offset
    }
    return undefined
  }
}

const offsetIn = (range: ServiceRange, address: string): number => address.split('.').reduce((sum, octet) => sum * 256 + Number(octet), 0) - range.base

/**
 * Puts addresses of a non-loopback range on `lo` and takes them off again (`ip addr`; root). A
 * loopback range needs nothing: Linux answers on all of 127/8.
 */
export class LoopbackAddresses {
  private readonly added = new Set<string>()

  constructor(private readonly range: ServiceRange, private readonly log: (line: string) => void) {}

  async add(addresses: readonly string[]): Promise<void> {
    if (this.range.loopback) return
    for (const address of addresses) {
      if (this.added.has(address)) continue
      try {
        await run('ip', ['addr', 'replace', `${address}/32`, 'dev', 'lo'])
        this.added.add(address)
      } catch (error) {
        this.log(`service address ${address} could not be added to lo (needs root and iproute2): ${(error as Error).message.split('\n')[0]}`)
      }
    }
  }

  async remove(addresses: readonly string[]): Promise<void> {
    for (const address of addresses) {
      if (!this.added.delete(address)) continue
      await run('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']).catch(() => undefined)
    }
  }

  /** Addresses of the range left on `lo` by an agent that did not stop cleanly. */
  async removeStale(keep: ReadonlySet<string>): Promise<void> {
    if (this.range.loopback) return
    const shown = await run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo']).catch(() => ({ stdout: '' }))
    for (const match of shown.stdout.matchAll(/inet (\d+\.\d+\.\d+\.\d+)\/32/g)) {
      const address = match[1]!
      if (keep.has(address) || !this.contains(address)) continue
      await run('ip', ['addr', 'del', `${address}/32`, 'dev', 'lo']).catch(() => undefined)
    }
  }

  async close(): Promise<void> {
    await this.remove([...this.added])
  }

  private contains(address: string): boolean {
    const offset = offsetIn(this.range, address)
    return offset >= 0 && offset < this.range.size
  }
}
