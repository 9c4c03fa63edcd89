// `peer nodes`: every peer the asked agent knows, with its membership status, placement state, load
// and labels, like `docker node ls`. The agent asked is marked with `*`. SITE is the peer's `site` label
// (`-` for none: a host of no site, docs/edge.md). The LABELS column leaves out that label and
// the built-in peer.id and peer.mesh, which the SITE, PEER and MESH columns already show (MESH: how the peer
// forwards service traffic, docs/networking.md); --json has every label. --wide adds how the asked
// agent reaches each peer: REACH (public, or behind NAT) and LINK (direct, punched, or relayed through which
// peer), docs/edge.md.

import type { Command } from 'commander'
import { SITE_LABEL, siteOf } from '../../core/index.js'
import { BUILT_IN_LABELS } from '../../node/agent/client.js'
import type { NodeRow } from '../../node/control/index.js'
import { joinLabel, type JoinFailure, type Reachability } from '../../p2p/client.js'
import { addPeerOption, ask, cpuCell, duration, labelsCell, memoryCell, printJson, relativeTime, type PeerOptions } from '../agent-client.js'
import { table } from '../table.js'

interface NodesOptions extends PeerOptions {
  json?: boolean
  wide?: boolean
}

export function registerNodes(program: Command): void {
  addPeerOption(
    program
      .command('nodes')
      .description('list the peers of the cluster with their state, load and labels (* marks the agent asked)'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .option('--wide', 'add each peer\'s reachability (public, behind NAT) and the link to it (direct, punched through NAT, or relayed through which peer)')
    .action(async (options: NodesOptions) => {
      const answer = await ask(options, 'GET /v1/nodes')
      if (options.json) printJson(answer)
      else process.stdout.write(nodesText(answer.nodes, Date.now(), answer.joinFailures ?? [], options.wide === true))
    })
}

/** The table, then a line for this peer's missing container engine and for each join address it cannot dial. */
export function nodesText(nodes: readonly NodeRow[], now: number, joinFailures: readonly JoinFailure[] = [], wide = false): string {
  const headers = ['PEER', 'STATUS', 'STATE', 'SITE', 'LAST SEEN', 'CPU', 'MEMORY', 'TASKS', 'DRIVERS', 'MESH', ...(wide ? ['REACH', 'LINK'] : []), 'LABELS']
  const rows = table(headers, nodes.map((n) => [
    n.self ? `${n.peer} *` : n.peer,
    n.status,
    n.state,
    siteOf(n.labels) ?? '-',
    relativeTime(n.lastSeen, now),
    cpuCell(n.allocated.cpuMilli, n.capacity.cpuMilli),
    memoryCell(n.allocated.memoryMiB, n.capacity.memoryMiB),
    String(n.tasks),
    n.drivers.join(',') || '-',
    n.labels[BUILT_IN_LABELS.mesh] ?? '-',
    ...(wide ? [reachCell(n.reachability), linkCell(n)] : []),
    labelsCell(Object.fromEntries(Object.entries(n.labels).filter(([key]) => key !== BUILT_IN_LABELS.id && key !== BUILT_IN_LABELS.mesh && key !== SITE_LABEL))),
  ]))
  const own = nodes.find((n) => n.self)?.engine
  const notes: string[] = []
  if (own !== undefined && own !== null && own.state !== 'up') notes.push(`This peer runs no containers: ${own.detail}`)
  for (const failure of joinFailures) notes.push(`join ${joinLabel(failure.address)}: failing for ${duration(Math.max(0, now - failure.since))}: ${failure.reason}`)
  return notes.length === 0 ? `${rows}\n` : `${rows}\n\n${notes.join('\n')}\n`
}

function reachCell(reachability: Reachability | undefined): string {
  if (reachability === 'nat') return 'behind NAT'
  return reachability ?? '-'
}

/** `direct`, `punched` (direct to the peer's NAT router), `relay <id>`, `-` for itself, `none` when not connected now. */
function linkCell(node: NodeRow): string {
  if (node.self) return '-'
  const link = node.link
  if (link === undefined || link === null) return 'none'
  if (link.kind === 'direct' || link.kind === 'punched') return link.kind
  return `relay ${link.via ?? '?'}`
}
