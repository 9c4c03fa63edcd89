// The answer to one question under `.peer`, from the directory as it is at that moment. Pure apart
// from the round-robin counter it is handed: no sockets, no clock, so every rule here is testable
// without a network, and a directory change is visible to the very next query.

import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet'
import type { ServiceName } from '../../../core/index.js'
import type { Endpoint, Transport } from '../types.js'
import { ADDRESS_LABEL, addressName, ipHex, ipOfHex, ZONE, type QueryName } from './names.js'
import type { RoundRobin } from './round-robin.js'

/** Where the server looks names up: the agent's view of services and their endpoints. */
export interface DnsDirectory {
  /**
   * The address local clients use to reach the service through this agent (its service address), or
   * undefined when no such service is desired (→ NXDOMAIN). A service with SRV records must have one:
   * resolvers that take NXDOMAIN for a name to cover every name below it (RFC 8020) would hide them.
   */
  serviceAddress(service: ServiceName): string | undefined
  /** The endpoints of the service's port (its `target`, see types.ts ServicePort), ready or not (only ready ones are served); undefined when the service or that port does not exist (→ NXDOMAIN). */
  srv(service: ServiceName, port: number, protocol: Transport): readonly Endpoint[] | undefined
}

/**
 * Time to live, in seconds. A resolver (or a client library) caches an answer this long, so each is
 * the longest we accept a client acting on stale data:
 * - The service address is where this agent's forwarder listens for the service; it changes only
 *   when the service is removed or re-created, and the forwarder follows endpoints itself. 5 s keeps
 *   lookups off the hot path of clients that resolve per request, and a re-created service is seen
 *   within 5 s.
 * - SRV answers name the ready endpoints themselves, which change whenever a task starts, fails its
 *   check or moves: 1 s (0 would make some caches ignore the answer), and a client that keeps using
 *   an endpoint after that must cope with its going away, as with any moving target.
 * - `<hex>.addr.peer` is a spelling of an IP and can never change: 300 s.
 * - Negative answers (NXDOMAIN, and a name without records of the asked type) for 1 s: a service
 *   that has just been applied becomes resolvable as soon as gossip delivers it, and a client that
 *   asked a moment too early must not be told "no such name" for long.
 */
export const SERVICE_ADDRESS_TTL_S = 5
export const SRV_TTL_S = 1
export const ADDRESS_TTL_S = 300
export const NEGATIVE_TTL_S = 1

/** What became of a query, for stats. */
export type Outcome = 'answered' | 'nxdomain' | 'forwarded' | 'refused' | 'servfail' | 'malformed'

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED'
const RCODE_VALUES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 }

export interface Reply {
  readonly response: Packet
  readonly outcome: Outcome
}

const SOA_RECORD: Answer = {
  type: 'SOA',
  name: ZONE,
  ttl: NEGATIVE_TTL_S,
  // The zone is never transferred, so serial, refresh, retry and expire only need to be plausible;
  // `minimum` is what resolvers take as the negative TTL (RFC 2308).
  data: { mname: `ns.${ZONE}`, rname: `hostmaster.${ZONE}`, serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: NEGATIVE_TTL_S },
}

/**
 * The reply to a query whose only question is under `.peer` (see classifyName). `recursion` says
 * whether the server forwards other names, which the RA flag announces.
 */
export function answerQuery(query: DecodedPacket, name: Exclude<QueryName, { kind: 'outside' }>, directory: DnsDirectory, roundRobin: RoundRobin, recursion: boolean): Reply {
  const question = query.questions![0]!
  const klass = question.class ?? 'IN'
  if (klass !== 'IN' && klass !== 'ANY') return errorReply(query, 'REFUSED', recursion)
  const found = recordsFor(name, question, directory, roundRobin)
  const base = { ...replyHeader(query, found === undefined ? 'NXDOMAIN' : 'NOERROR', recursion, true), questions: [question], ...edns(query) }
  if (found === undefined) return { response: { ...base, authorities: [SOA_RECORD] }, outcome: 'nxdomain' }
  if (found === 'broken') return { response: { ...base, flags: flagsOf(query, 'SERVFAIL', recursion, false) }, outcome: 'servfail' }
  const { answers, additionals = [] } = found
  const authorities = answers.length === 0 ? [SOA_RECORD] : []
  return { response: { ...base, answers, authorities, additionals: [...additionals, ...(base.additionals ?? [])] }, outcome: 'answered' }
}

/** A reply without records: FORMERR, SERVFAIL, NOTIMP, REFUSED. Echoes the question when there is one. */
export function errorReply(query: DecodedPacket, rcode: Rcode, recursion: boolean): Reply {
  const outcome: Outcome = rcode === 'SERVFAIL' ? 'servfail' : rcode === 'FORMERR' ? 'malformed' : 'refused'
  return { response: { ...replyHeader(query, rcode, recursion, false), questions: query.questions?.length === 1 ? query.questions : [], ...edns(query) }, outcome }
}

type Records = { answers: Answer[]; additionals?: Answer[] } | undefined | 'broken'

/** The records for the name and type; undefined when the name does not exist; 'broken' when the directory gave something that is not an IP. */
function recordsFor(name: Exclude<QueryName, { kind: 'outside' }>, question: Question, directory: DnsDirectory, roundRobin: RoundRobin): Records {
  const type: string = question.type // "ANY" (255) too, which the typings leave out
  switch (name.kind) {
    case 'apex':
      return { answers: type === 'SOA' || type === 'ANY' ? [{ ...SOA_RECORD }] : [] }
    case 'service': {
      const address = directory.serviceAddress(name.service)
      // `addr.peer` holds the hex names below it, so it exists even when no service has that name.
      if (address === undefined) return name.service === ADDRESS_LABEL ? { answers: [] } : undefined
      const record = addressRecord(question.name, address, SERVICE_ADDRESS_TTL_S)
      if (record === undefined) return 'broken'
      return { answers: type === record.type || type === 'ANY' ? [record] : [] }
    }
    case 'transport':
      return directory.serviceAddress(name.service) === undefined ? undefined : { answers: [] }
    case 'address': {
      const record = addressRecord(question.name, name.address, ADDRESS_TTL_S)!
      return { answers: type === record.type || type === 'ANY' ? [record] : [] }
    }
    case 'srv': {
      const endpoints = directory.srv(name.service, name.port, name.protocol)
      if (endpoints === undefined) return undefined
      if (type !== 'SRV' && type !== 'ANY') return { answers: [] }
      return srvRecords(question.name, name.service, name.port, name.protocol, endpoints, roundRobin)
    }
    case 'unknown':
      return undefined
  }
}

function srvRecords(owner: string, service: ServiceName, port: number, protocol: Transport, endpoints: readonly Endpoint[], roundRobin: RoundRobin): Records {
  const ready = endpoints.filter((endpoint) => endpoint.ready === true && addressName(endpoint.address) !== undefined)
  // Rotating the order on every query spreads clients that take the first record (most do), and
  // clients that honour weights see equal ones. Every record has priority 0 and weight 1: a local
  // task is not preferred here, because clients on every host would then pile onto whichever host
  // runs a task; locality is the service address's business (the forwarder picks local first).
  const start = ready.length === 0 ? 0 : roundRobin.next(`${service}/${port}/${protocol}`, ready.length)
  const rotated = [...ready.slice(start), ...ready.slice(0, start)]
  const answers: Answer[] = rotated.map((endpoint) => ({
    type: 'SRV',
    name: owner,
    ttl: SRV_TTL_S,
    data: { priority: 0, weight: 1, port: endpoint.port, target: addressName(endpoint.address)! },
  }))
  const additionals = new Map<string, Answer>()
  for (const endpoint of rotated) {
    const target = addressName(endpoint.address)!
    if (!additionals.has(target)) additionals.set(target, addressRecord(target, endpoint.address, ADDRESS_TTL_S)!)
  }
  return { answers, additionals: [...additionals.values()] }
}

function addressRecord(owner: string, address: string, ttl: number): Answer | undefined {
  const hex = ipHex(address)
  const ip = hex === undefined ? undefined : ipOfHex(hex)
  if (ip === undefined) return undefined
  return { type: ip.family === 4 ? 'A' : 'AAAA', name: owner, ttl, data: ip.address }
}

function replyHeader(query: DecodedPacket, rcode: Rcode, recursion: boolean, authoritative: boolean): Packet {
  return { id: query.id, type: 'response', flags: flagsOf(query, rcode, recursion, authoritative) }
}

const AUTHORITATIVE = 1 << 10
const RECURSION_DESIRED = 1 << 8
const RECURSION_AVAILABLE = 1 << 7

function flagsOf(query: DecodedPacket, rcode: Rcode, recursion: boolean, authoritative: boolean): number {
  return (authoritative ? AUTHORITATIVE : 0) | ((query.flags ?? 0) & RECURSION_DESIRED) | (recursion ? RECURSION_AVAILABLE : 0) | RCODE_VALUES[rcode]
}

/** A client that speaks EDNS gets an OPT record back (RFC 6891 §7) announcing what we accept. */
function edns(query: DecodedPacket): { additionals?: Answer[] } {
  const asked = query.additionals?.some((record) => record.type === 'OPT')
  return asked ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: MAX_UDP_PAYLOAD_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] } : {}
}

/**
 * The largest UDP reply we send to a client that advertises a larger buffer. 1232 bytes is what DNS
 * Flag Day 2020 settled on: it fits the IPv6 minimum MTU without fragmentation, which is lost on many
 * paths; more than that goes over TCP.
 */
export const MAX_UDP_PAYLOAD_BYTES = 1232

/** How large a UDP reply to this query may be: 512 bytes without EDNS, else the client's size within [512, 1232]. */
export function udpLimitOf(query: DecodedPacket): number {
  const opt = query.additionals?.find((record) => record.type === 'OPT') as { udpPayloadSize?: number } | undefined
  if (opt === undefined) return 512
  return Math.min(MAX_UDP_PAYLOAD_BYTES, Math.max(512, opt.udpPayloadSize ?? 512))
}
