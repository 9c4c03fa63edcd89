// `peer up --local N`: a development cluster of N real agents on this machine (like `nomad agent
// -dev`): N processes, N data directories sharing one swarm key, real libp2p on 127.0.0.1. With
// -f it applies specs once the peers have met and waits until every replica runs. Ctrl-C stops all.

import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import { defaultDataDir } from '../../node/agent/index.js'
import { ask } from '../agent-client.js'
import { makeDeclaredSecrets } from '../declared-secrets.js'
import { addSpecFileOptions, loadSpecFiles, problemLines, type SpecFileOptions } from '../spec-files.js'
import { ipOfMultiaddr, SetupError } from '../../p2p/index.js'
import { EXIT_FAILURE, UsageError } from '../exit-codes.js'
import { LocalCluster, sleep } from '../local-cluster.js'
import { table } from '../table.js'
import { applyServices, outcomeText, requestTooLarge } from './apply.js'
import { messageOf, type ServiceSpec } from '../../core/index.js'

interface UpOptions extends SpecFileOptions {
  local?: string
  data?: string
  file?: string[]
  cpu?: string
  memory?: string
}

/** The most agents one machine runs for development; each is a Node process of ~60 MB. */
const MAX_LOCAL_PEERS = 32
const REPLICAS_TIMEOUT_MS = 30_000

export function registerUp(program: Command): void {
  addSpecFileOptions(program
    .command('up')
    .description('start a development cluster of N agents on this machine; Ctrl-C stops them all')
    .requiredOption('--local <n>', `number of agents (1-${MAX_LOCAL_PEERS})`)
    .option('--data <dir>', 'where the agents keep their data directories (default <data dir>/local, i.e. ~/.peer/local)')
    .option('-f, --file <path...>', 'service spec file(s) or Compose file(s) to apply once the cluster is up')
    .option('--cpu <cores>', 'CPU each agent offers (default 1 core, so placement spreads visibly)', '1')
    .option('--memory <size>', 'memory each agent offers', '1Gi'))
    .action(async (options: UpOptions) => {
      process.exitCode = await runUp(options)
    })
}

async function runUp(options: UpOptions): Promise<number> {
  const count = Number(options.local)
  if (!/^\d+$/.test(options.local ?? '') || count < 1 || count > MAX_LOCAL_PEERS) {
    throw new UsageError(`--local: expected a whole number from 1 to ${MAX_LOCAL_PEERS}, got ${JSON.stringify(options.local)}`)
  }
  const loaded = options.file === undefined ? undefined : await loadSpecFiles(options.file, options)
  if (loaded !== undefined && !loaded.ok) throw new UsageError(problemLines(loaded.errors))
  if (loaded !== undefined && loaded.value.warnings.length > 0) process.stderr.write(`${problemLines(loaded.value.warnings)}\n`)
  const specs = loaded?.value
  // Refused before any agent starts, as a spec error is.
  const tooLarge = specs === undefined ? undefined : requestTooLarge(options.file ?? [], { services: specs.services })
  if (tooLarge !== undefined) throw new UsageError(tooLarge)
  const base = resolve(options.data ?? join(defaultDataDir(), 'local'))
  let cluster: LocalCluster
  try {
    // On Linux all of 127/8 routes to this machine: each agent gets its own address, so containers of
    // different agents can publish the same port (each on its agent's address), as on real hosts.
    cluster = await LocalCluster.create({ base, count, addresses: process.platform === 'linux' ? 'range' : 'single', agentArgs: ['--cpu', options.cpu ?? '1', '--memory', options.memory ?? '1Gi'] })
  } catch (error) {
    if (error instanceof SetupError) throw new UsageError(error.message, EXIT_FAILURE)
    throw error
  }

  let interrupted = false
  const interrupt = new Promise<void>((resolveInterrupt) => {
    const onSignal = (): void => {
      if (interrupted) return
      interrupted = true
      process.stderr.write('\nstopping the local cluster…\n')
      resolveInterrupt()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
  const first = cluster.agent(1)
  try {
    await Promise.race([cluster.startAll().then(() => Promise.all(cluster.agents.map((a) => cluster.waitForMembers(a.index, count)))), interrupt])
    if (interrupted) return 0
    const names = new Map(cluster.agents.map((a) => [a.peerId ?? '', `peer-${a.index}`]))
    process.stdout.write(`${count} peer(s) up; data in ${base}\n`)
    if (specs !== undefined) {
      await makeDeclaredSecrets({ peer: first.socket }, specs.secrets)
      const answer = await applyServices({ peer: first.socket }, options.file ?? [], specs.services)
      process.stdout.write(outcomeText(answer.services))
      // Ctrl-C while replicas start stops the cluster now, not once they all run.
      await Promise.race([waitForReplicas(first.socket, () => interrupted), interrupt])
      if (interrupted) return 0
      const { tasks } = await ask({ peer: first.socket }, 'GET /v1/tasks')
      process.stdout.write(`\n${table(['SLOT', 'PEER', 'STATE'], tasks.map((t) => [t.slot, `${names.get(t.peer) ?? t.peer} (${t.peer.slice(-8)})`, t.state]))}\n`)
      process.stdout.write(publishedText(specs.services, cluster.agents.map((agent) => agent.address)))
    }
    process.stdout.write(`\nask any peer, e.g.: peer ps --data ${first.dir}, or open http://${first.ui}/\nCtrl-C stops all peers and their tasks.\n`)
    await interrupt
    return 0
  } catch (error) {
    throw new UsageError(messageOf(error), EXIT_FAILURE)
  } finally {
    await cluster.stopAll()
  }
}

async function waitForReplicas(socket: string, cancelled: () => boolean): Promise<void> {
  const deadline = Date.now() + REPLICAS_TIMEOUT_MS
  while (Date.now() < deadline && !cancelled()) {
    const { services } = await ask({ peer: socket }, 'GET /v1/status')
    if (services.every((s) => s.desired === null || s.running >= s.desired)) return
    await sleep(100)
  }
  if (cancelled()) return
  process.stderr.write(`not every replica was running after ${REPLICAS_TIMEOUT_MS / 1000} s; see peer why <service>\n`)
}

/**
 * Where the services' ingress ports answer: on every agent's own address (docs/networking.md).
 * Nothing when no service publishes one.
 */
export function publishedText(services: readonly ServiceSpec[], agentAddresses: readonly string[]): string {
  const hosts = [...new Set(agentAddresses.map((address) => ipOfMultiaddr(`${address}/`) ?? '127.0.0.1'))]
  const lines = services.flatMap((spec) => spec.ports
    .filter((port) => port.mode === 'ingress' && port.host > 0)
    .map((port) => `${spec.name} ${port.container}/${port.protocol} on ${hosts.map((host) => `${host}:${port.host}`).join(', ')}`))
  return lines.length === 0 ? '' : `\npublished on every peer (routing mesh):\n${lines.map((line) => `  ${line}`).join('\n')}\n`
}
