// `peer nodes`: every peer the asked agent knows, with its membership status, placement state, load
// and labels, like `docker node ls`. The agent asked is marked with `*`.

import type { Command } from 'commander'
import type { NodeRow } from '../../node/control/index.js'
import { addPeerOption, ask, cpuCell, labelsCell, memoryCell, printJson, relativeTime, type PeerOptions } from '../agent-client.js'
import { table } from '../table.js'

interface NodesOptions extends PeerOptions {
  json?: boolean
}

export function registerNodes(program: Command): void {
  addPeerOption(
    program
      .command('nodes')
      .description('list the peers of the cluster with their state, load and labels (* marks the agent asked)'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (options: NodesOptions) => {
      const answer = await ask(options, 'GET /v1/nodes')
      if (options.json) printJson(answer)
      else process.stdout.write(nodesText(answer.nodes, Date.now()))
    })
}

export function nodesText(nodes: readonly NodeRow[], now: number): string {
  const rows = table(['PEER', 'STATUS', 'STATE', 'LAST SEEN', 'CPU', 'MEMORY', 'TASKS', 'DRIVERS', 'LABELS'], nodes.map((n) => [
    n.self ? `${n.peer} *` : n.peer,
    n.status,
    n.state,
    relativeTime(n.lastSeen, now),
    cpuCell(n.allocated.cpuMilli, n.capacity.cpuMilli),
    memoryCell(n.allocated.memoryMiB, n.capacity.memoryMiB),
    String(n.tasks),
    n.drivers.join(',') || '-',
    labelsCell(n.labels),
  ]))
  const own = nodes.find((n) => n.self)?.engine
  const note = own !== undefined && own !== null && own.state !== 'up' ? `\nThis peer runs no containers: ${own.detail}\n` : ''
  return `${rows}\n${note}`
}
