// The labels every agent gives itself, beside the operator's `--labels`: which host it is and what
// it runs on, so constraints can pin work to a host or a platform the way Swarm's node.hostname,
// node.id, node.platform.os and node.platform.arch do (`peer.hostname == edge-3`, `peer.arch ==
// aarch64`). Keys starting with `peer.` are reserved for them: an operator's label could otherwise
// claim another host's name.

import { hostname, machine } from 'node:os'
import { WIRE_LIMITS } from '../../core/index.js'

export const RESERVED_LABEL_PREFIX = 'peer.'

export const BUILT_IN_LABELS = {
  /** The host's name, as `hostname` prints it. */
  hostname: 'peer.hostname',
  /** The agent's peer id. */
  id: 'peer.id',
  /** The operating system as Node names it (process.platform): linux, darwin, … */
  os: 'peer.os',
  /** The machine's architecture as `uname -m` prints it (x86_64, aarch64): what Docker reports as node.platform.arch. */
  arch: 'peer.arch',
  /** How the agent forwards service traffic: kernel (NAT rules), userspace (its proxy) or off (docs/networking.md). */
  mesh: 'peer.mesh',
} as const

/** What the built-in labels are read from; the running host's by default, a test's own when given. */
export interface HostFacts {
  readonly hostname: string
  readonly platform: string
  readonly machine: string
}

export function hostFacts(): HostFacts {
  return { hostname: hostname(), platform: process.platform, machine: machine() }
}

export function builtInLabels(self: string, facts: HostFacts = hostFacts()): Record<string, string> {
  return {
    [BUILT_IN_LABELS.hostname]: facts.hostname,
    [BUILT_IN_LABELS.id]: self,
    [BUILT_IN_LABELS.os]: facts.platform,
    [BUILT_IN_LABELS.arch]: facts.machine,
  }
}

/** Labels an operator may give an agent: none reserved, and room left for the built-in ones in an advert. */
export function ownLabelsProblem(labels: Readonly<Record<string, string>>): string | undefined {
  const reserved = Object.keys(labels).filter((key) => key.startsWith(RESERVED_LABEL_PREFIX))
  if (reserved.length > 0) {
    return `${reserved.map((key) => JSON.stringify(key)).join(', ')}: keys starting with "${RESERVED_LABEL_PREFIX}" are reserved for the labels every agent sets itself (${Object.values(BUILT_IN_LABELS).join(', ')})`
  }
  const room = WIRE_LIMITS.maxLabels - Object.keys(BUILT_IN_LABELS).length
  if (Object.keys(labels).length > room) return `at most ${room} labels (an advert carries ${WIRE_LIMITS.maxLabels}, ${Object.keys(BUILT_IN_LABELS).length} of them built in)`
  return undefined
}
