// `peer up --local N`: a development cluster of N real agents on this machine (like `nomad agent
// -dev`): N processes, N data directories sharing one swarm key, real libp2p on 127.0.0.1. With
// -f it applies specs once the peers have met and waits until every replica runs. Ctrl-C stops all.

import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import type { Command } from 'commander'
import { dataDirLayout, defaultDataDir, initDataDir } from '../../node/agent/data-dir.js'
import type { NodeRow, ServiceRow, TaskRow } from '../../node/agent/views.js'
import { controlRequest } from '../../node/control/index.js'
import { formatFileError, loadServices } from '../../node/files.js'
import { SetupError } from '../../p2p/index.js'
import { EXIT_FAILURE, UsageError } from '../exit-codes.js'
import { table } from '../table.js'
import { outcomeText, type ServiceOutcomeJson } from './apply.js'

interface UpOptions {
  local?: string
  data?: string
  file?: string[]
  cpu?: string
  memory?: string
}

/** The most agents one machine runs for development; each is a Node process of ~60 MB. */
const MAX_LOCAL_PEERS = 32
const READY_TIMEOUT_MS = 30_000

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('start a development cluster of N agents on this machine; Ctrl-C stops them all')
    .requiredOption('--local <n>', `number of agents (1-${MAX_LOCAL_PEERS})`)
    .option('--data <dir>', 'where the agents keep their data directories (default <data dir>/local, i.e. ~/.peer/local)')
    .option('-f, --file <path...>', 'service spec file(s) to apply once the cluster is up')
    .option('--cpu <cores>', 'CPU each agent offers (default 1 core, so placement spreads visibly)', '1')
    .option('--memory <size>', 'memory each agent offers', '1Gi')
    .action(async (options: UpOptions) => {
      process.exitCode = await runUp(options)
    })
}

interface LocalPeer {
  readonly index: number
  readonly dir: string
  readonly socket: string
  readonly child: ChildProcess
  address?: string
  exited: boolean
}

async function runUp(options: UpOptions): Promise<number> {
  const count = Number(options.local)
  if (!/^\d+$/.test(options.local ?? '') || count < 1 || count > MAX_LOCAL_PEERS) {
    throw new UsageError(`--local: expected a whole number from 1 to ${MAX_LOCAL_PEERS}, got ${JSON.stringify(options.local)}`)
  }
  const specs = options.file === undefined ? undefined : await loadServices(options.file)
  if (specs !== undefined && !specs.ok) throw new UsageError(specs.errors.map(formatFileError).join('\n'))
  const base = resolve(options.data ?? join(defaultDataDir(), 'local'))
  const dirs = Array.from({ length: count }, (_, i) => join(base, `peer-${i + 1}`))
  try {
    await initDataDir(dirs[0]!)
    for (const dir of dirs.slice(1)) await initDataDir(dir, { keyFile: dataDirLayout(dirs[0]!).swarmKey })
  } catch (error) {
    if (error instanceof SetupError) throw new UsageError(error.message, EXIT_FAILURE)
    throw error
  }

  const peers: LocalPeer[] = []
  const stopAll = async (): Promise<void> => {
    for (const peer of peers) if (!peer.exited) peer.child.kill('SIGTERM')
    const deadline = Date.now() + 15_000
    while (peers.some((p) => !p.exited) && Date.now() < deadline) await sleep(100)
    for (const peer of peers) if (!peer.exited) peer.child.kill('SIGKILL')
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

  try {
    const first = startLocalPeer(1, dirs[0]!, [], options)
    peers.push(first)
    const address = await Promise.race([first.addressKnown, interrupt.then(() => undefined)])
    if (address === undefined) return 0
    for (const [i, dir] of dirs.slice(1).entries()) peers.push(startLocalPeer(i + 2, dir, [address], options))
    await waitForPeers(peers, count)
    process.stdout.write(`${count} peer(s) up; data in ${base}\n`)
    if (specs !== undefined) {
      const answer = (await controlRequest(peers[0]!.socket, 'POST', '/v1/apply', { services: specs.value })) as { services: ServiceOutcomeJson[] }
      process.stdout.write(outcomeText(answer.services))
      await waitForReplicas(peers[0]!.socket)
      const { tasks } = (await controlRequest(peers[0]!.socket, 'GET', '/v1/tasks')) as { tasks: TaskRow[] }
      const names = new Map(peers.map((p) => [p.address?.split('/p2p/')[1] ?? '', `peer-${p.index}`]))
      process.stdout.write(`\n${table(['SLOT', 'PEER', 'STATE'], tasks.map((t) => [t.slot, `${names.get(t.peer) ?? t.peer} (${t.peer.slice(-8)})`, t.state]))}\n`)
    }
    process.stdout.write(`\nask any peer, e.g.: peer ps --data ${dirs[0]}\nCtrl-C stops all peers and their tasks.\n`)
    await interrupt
    return 0
  } finally {
    await stopAll()
  }
}

function startLocalPeer(index: number, dir: string, joinAddresses: readonly string[], options: UpOptions): LocalPeer & { addressKnown: Promise<string> } {
  const args = [
    ...process.execArgv,
    process.argv[1]!,
    'agent',
    '--data', dir,
    '--listen', '/ip4/127.0.0.1/tcp/0',
    '--cpu', options.cpu ?? '1',
    '--memory', options.memory ?? '1Gi',
    '--labels', `local=peer-${index}`,
    '--exit-on-stdin-close',
    ...(joinAddresses.length > 0 ? ['--join', ...joinAddresses] : []),
  ]
  // Its own process group: the terminal's Ctrl-C reaches only `up`, which stops each agent once.
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  const log = createWriteStream(join(dir, 'agent.log'), { flags: 'a' })
  child.stderr!.pipe(log)
  const peer: LocalPeer & { addressKnown: Promise<string> } = {
    index,
    dir,
    socket: dataDirLayout(dir).socket,
    child,
    exited: false,
    addressKnown: new Promise<string>((resolveAddress, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const match = /^peer \S+ listening on (\S+)/.exec(line)
        if (match !== null) {
          peer.address = match[1]!
          resolveAddress(match[1]!)
        }
      })
      child.on('exit', () => reject(new Error(`peer-${index} exited during start; see ${join(dir, 'agent.log')}`)))
    }),
  }
  peer.addressKnown.catch(() => undefined)
  child.on('exit', (code, signal) => {
    peer.exited = true
    if (code !== 0) process.stderr.write(`peer-${index} exited (${signal ?? `code ${code}`}); its log: ${join(dir, 'agent.log')}\n`)
  })
  return peer
}

/** Until every agent answers and knows all the others as alive. */
async function waitForPeers(peers: readonly LocalPeer[], count: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (const peer of peers) {
    for (;;) {
      if (peer.exited) throw new UsageError(`peer-${peer.index} exited during start; see ${join(peer.dir, 'agent.log')}`, EXIT_FAILURE)
      try {
        const { nodes } = (await controlRequest(peer.socket, 'GET', '/v1/nodes', undefined, { timeoutMs: 2_000 })) as { nodes: NodeRow[] }
        if (nodes.filter((n) => n.status === 'alive').length >= count) break
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new UsageError(`peer-${peer.index} did not see all ${count} peers within ${READY_TIMEOUT_MS / 1000} s; see ${join(peer.dir, 'agent.log')}`, EXIT_FAILURE)
      await sleep(100)
    }
  }
}

async function waitForReplicas(socket: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    const { services } = (await controlRequest(socket, 'GET', '/v1/status')) as { services: ServiceRow[] }
    if (services.every((s) => s.desired === null || s.running >= s.desired)) return
    await sleep(100)
  }
  process.stderr.write(`not every replica was running after ${READY_TIMEOUT_MS / 1000} s; see peer why <service>\n`)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms))
}
