// N real agents on this machine, each its own process and data directory, sharing one swarm key:
// what `peer up --local N` runs, and what the multi-process tests and `bench/cluster.ts` drive. Every
// agent gets a fixed address (chosen once, free at creation) and joins through all the others, so any
// agent can be killed and restarted in any order and finds the cluster again.

import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { dataDirLayout, initDataDir } from '../node/agent/index.js'
import { ask } from './agent-client.js'
import { hash32 } from '../core/index.js'

export interface LocalClusterOptions {
  /** Directory holding peer-1 … peer-N. */
  readonly base: string
  readonly count: number
  /** 'range': agent i listens on 127.0.0.i (Linux routes all of 127/8); 'single': all on 127.0.0.1. */
  readonly addresses?: 'range' | 'single'
  /** Extra `peer agent` flags for every agent (e.g. --cpu 1 --memory 1Gi). */
  readonly agentArgs?: readonly string[]
  /** The command that runs the CLI: default this process's own (node [--import tsx] <main>). */
  readonly command?: readonly string[]
}

export interface LocalAgent {
  readonly index: number
  readonly dir: string
  readonly socket: string
  readonly address: string
  /** host:port of its /metrics (its own, so the agents do not compete for the default port). */
  readonly metrics: string
  /** host:port of its web view, likewise its own. */
  readonly ui: string
  /** Its service addresses (docs/networking.md), its DNS server on the first. */
  readonly serviceCidr: string
  readonly log: string
  peerId?: string
  child?: ChildProcess
  /** Resolves with the exit code (or signal name) of the current process. */
  exited?: Promise<number | string>
  running: boolean
}

const READY_TIMEOUT_MS = 30_000

export class LocalCluster {
  private constructor(
    readonly agents: readonly LocalAgent[],
    private readonly options: LocalClusterOptions,
  ) {}

  /** Creates (or reuses) the data directories; starts nothing. */
  static async create(options: LocalClusterOptions): Promise<LocalCluster> {
    const base = resolve(options.base)
    // Each agent its own service range, and each cluster its own block of them, so two local
    // clusters on one machine (a test run beside `peer up --local`) do not take each other's addresses.
    const block = 64 + (hash32(base) % 64)
    const agents: LocalAgent[] = []
    for (let index = 1; index <= options.count; index++) {
      const dir = join(base, `peer-${index}`)
      await initDataDir(dir, index === 1 ? {} : { keyFile: dataDirLayout(join(base, 'peer-1')).swarmKey })
      const host = options.addresses === 'range' ? `127.0.0.${index}` : '127.0.0.1'
      agents.push({ index, dir, socket: dataDirLayout(dir).socket, address: `/ip4/${host}/tcp/${await freePort(host)}`, metrics: `${host}:${await freePort(host)}`, ui: `${host}:${await freePort(host)}`, serviceCidr: `127.${block}.${index}.0/24`, log: join(dir, 'agent.log'), running: false })
    }
    return new LocalCluster(agents, options)
  }

  agent(index: number): LocalAgent {
    const agent = this.agents[index - 1]
    if (agent === undefined) throw new RangeError(`no agent ${index} in a cluster of ${this.agents.length}`)
    return agent
  }

  /** Starts agent `index` and resolves once it listens (its peer id is then known). */
  async start(index: number, extraArgs: readonly string[] = []): Promise<LocalAgent> {
    const agent = this.agent(index)
    if (agent.running) return agent
    const others = this.agents.filter((a) => a.index !== index).map((a) => a.address)
    const [executable, ...prefix] = this.options.command ?? [process.execPath, ...process.execArgv, process.argv[1]!]
    const args = [
      ...prefix,
      'agent',
      '--data', agent.dir,
      '--listen', agent.address,
      '--metrics', agent.metrics,
      '--ui', agent.ui,
      // Agents sharing one machine: each its own service addresses (and DNS on the first of them), and
      // the userspace proxy, so a local cluster touches no NAT rules of the machine's.
      '--service-cidr', agent.serviceCidr,
      '--mesh', 'userspace',
      '--labels', `local=peer-${index}`,
      '--exit-on-stdin-close',
      ...(this.options.agentArgs ?? []),
      ...extraArgs,
      ...(others.length > 0 ? ['--join', ...others] : []),
    ]
    // Its own process group: a terminal's Ctrl-C reaches only the parent, which stops each agent once.
    const child = spawn(executable!, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
    const log = createWriteStream(agent.log, { flags: 'a' })
    // A log that cannot be written (the data directory is full) must not end this process, and the
    // agent must not block on a full pipe: its lines are dropped until the file can take them again.
    log.on('error', (error) => {
      process.stderr.write(`agent ${index}: cannot write its log ${agent.log}: ${error.message}\n`)
      child.stderr!.unpipe(log)
      child.stderr!.resume()
    })
    child.stderr!.pipe(log)
    agent.child = child
    agent.running = true
    agent.exited = new Promise((resolveExit) => {
      child.on('exit', (code, signal) => {
        agent.running = false
        resolveExit(code ?? signal ?? 'unknown')
      })
    })
    const listening = new Promise<string>((resolveListening, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const match = /^peer (\S+) listening on/.exec(line)
        if (match !== null) resolveListening(match[1]!)
      })
      void agent.exited!.then((how) => reject(new Error(`agent ${index} exited (${how}) while starting; its log: ${agent.log}`)))
    })
    agent.peerId = await withTimeout(listening, READY_TIMEOUT_MS, `agent ${index} did not start listening; its log: ${agent.log}`)
    return agent
  }

  async startAll(): Promise<void> {
    await Promise.all(this.agents.map((agent) => this.start(agent.index)))
  }

  /** kill -9 (or another signal) and wait for the process to be gone. */
  async kill(index: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const agent = this.agent(index)
    if (!agent.running) return
    agent.child!.kill(signal)
    await agent.exited
  }

  /** SIGTERM (graceful: leave, stop tasks), then SIGKILL after `graceMs`. */
  async stop(index: number, graceMs = 15_000): Promise<void> {
    const agent = this.agent(index)
    if (!agent.running) return
    agent.child!.kill('SIGTERM')
    const done = await Promise.race([agent.exited!.then(() => true), sleep(graceMs).then(() => false)])
    if (!done) await this.kill(index)
  }

  async stopAll(graceMs?: number): Promise<void> {
    await Promise.all(this.agents.map((agent) => this.stop(agent.index, graceMs)))
  }

  /** Until agent `index` holds `count` members alive (itself included). */
  async waitForMembers(index: number, count: number, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const agent = this.agent(index)
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (!agent.running) throw new Error(`agent ${index} exited; its log: ${agent.log}`)
      try {
        const { nodes } = await ask({ peer: agent.socket, timeoutMs: 2_000 }, 'GET /v1/nodes')
        if (nodes.filter((node) => node.status === 'alive').length >= count) return
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`agent ${index} did not see ${count} peers alive within ${timeoutMs} ms; its log: ${agent.log}`)
      await sleep(100)
    }
  }
}

/** A TCP port free on `host` now (the kernel picks it; it is released at once for the agent to take). */
function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolvePort(port))
    })
  })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms))
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))])
  } finally {
    clearTimeout(timer)
  }
}
