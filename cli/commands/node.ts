// `peer node drain|cordon|uncordon <peer>`: per-peer operator settings in the desired state, like
// `docker node update --availability`. drain moves tasks off (replacement first) and takes no new
// ones; cordon keeps what runs and takes nothing new; uncordon undoes both.

import type { Command } from 'commander'
import { addPeerOption, ask, type PeerOptions } from '../agent-client.js'

interface NodeOptions extends PeerOptions {
  json?: boolean
}

const ACTIONS = {
  drain: 'move this peer\'s tasks elsewhere and place nothing new on it',
  cordon: 'place nothing new on this peer; what runs keeps running',
  uncordon: 'undo drain and cordon',
} as const

export function registerNode(program: Command): void {
  const node = program.command('node').description('drain, cordon or uncordon a peer')
  for (const [action, description] of Object.entries(ACTIONS)) {
    addPeerOption(
      node
        .command(action)
        .description(description)
        .argument('<peer>', 'peer id (or a unique prefix of it, or "self" for the agent asked)'),
    )
      .option('--json', 'print the result as JSON')
      .action(async (peer: string, options: NodeOptions) => {
        const answer = await ask(options, 'POST /v1/nodes/:peer/:action', { params: { peer, action } })
        process.stdout.write(options.json ? `${JSON.stringify(answer, null, 2)}\n` : `${action}: ${answer.peer}\n`)
      })
  }
}
