// `peer init`: makes a data directory a peer — its identity (peer id) and the cluster's swarm key.
// On the first host it generates the key; on every other host, pass the same key file with --key-file.

import type { Command } from 'commander'
import { defaultDataDir, initDataDir } from '../../node/agent/index.js'
import { SetupError } from '../../p2p/index.js'
import { UsageError } from '../exit-codes.js'

interface InitOptions {
  data?: string
  keyFile?: string
  json?: boolean
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create a data directory: this peer\'s identity and the cluster\'s swarm key')
    .option('--data <dir>', 'data directory (default $PEER_DATA, else ~/.peer)')
    .option('--key-file <path>', 'join an existing cluster: the swarm.key copied from one of its peers')
    .option('--json', 'print the result as JSON')
    .action(async (options: InitOptions) => {
      const root = options.data ?? defaultDataDir()
      try {
        const result = await initDataDir(root, options.keyFile === undefined ? {} : { keyFile: options.keyFile })
        if (options.json) {
          process.stdout.write(`${JSON.stringify({ peer: result.peerId, dataDir: result.layout.root, swarmKey: result.layout.swarmKey, createdIdentity: result.createdIdentity, createdSwarmKey: result.createdSwarmKey }, null, 2)}\n`)
          return
        }
        const lines = [
          `${result.createdIdentity ? 'created' : 'found'} peer ${result.peerId} in ${result.layout.root}`,
          result.createdSwarmKey
            ? options.keyFile === undefined
              ? `new cluster: swarm key written to ${result.layout.swarmKey}; copy it (mode 0600) to every other host and run there: peer init --key-file swarm.key`
              : `joined the cluster of ${options.keyFile}: key copied to ${result.layout.swarmKey}`
            : `swarm key already in place: ${result.layout.swarmKey}`,
          `start the agent with: peer agent --data ${root}`,
        ]
        process.stdout.write(`${lines.join('\n')}\n`)
      } catch (error) {
        if (error instanceof SetupError) throw new UsageError(error.message)
        throw error
      }
    })
}
