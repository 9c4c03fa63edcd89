// N hosts on this machine: each a network namespace with its own address on one bridge, its own data
// directory and one real `peer agent` (process driver) started inside the namespace. The agents find
// each other through their namespaces' addresses only; the CLI and this harness reach each agent
// through the unix socket in its data directory, which works from the machine's own namespace.
//
// Nothing outlives a run: teardown kills every process in every namespace (agents and the tasks they
// started), deletes the namespaces and the bridge and removes the data directories — from the test's
// `finally`, and from 'exit', SIGINT and SIGTERM handlers for runs that fail or are interrupted. A
// run killed outright is cleaned by the next one's sweepStale().

import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve as resolvePath } from 'node:path'
import { createInterface } from 'node:readline'
import { ask } from '../../cli/agent-client.js'
import { dataDirLayout, initDataDir } from '../../node/agent/index.js'
import { repoRoot } from '../cli/run-cli.js'
import { PEER_COMMAND } from '../peer-command.js'
import { inNamespace } from './command.js'
import { mountTmpfs, unmountUnder } from './mounts.js'
import { addClient, checkNamespacesWork, createNetwork, destroyNetworkSync, planNetwork, TEMP_PREFIX, type NetworkPlan } from './network.js'

export const AGENT_PORT = 4001
/**
 * How long an agent may take to listen, or the hosts to mesh: generous, because on a shared two-core
 * machine under a load average of 30–40 a `node --import tsx` start alone was seen to take over 30 s.
 */
const READY_TIMEOUT_MS = 90_000

export interface Host {
  readonly index: number
  /** h1 … hN: how histories and verdicts name the host. */
  readonly name: string
  readonly namespace: string
  readonly address: string
  readonly dataDir: string
  readonly socket: string
  readonly log: string
  readonly peerId: string
  /** The current agent process, if one was started and has not been seen to exit. */
  agent?: ChildProcess
  /** Resolves when the current agent process exits. */
  agentExited?: Promise<void>
}

/** An agent process that ended, however it ended. */
export interface AgentExit {
  readonly host: string
  /** Wall clock, ms since the epoch. */
  readonly at: number
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface HostsInit {
  readonly count: number
  /** Offered to placement by every agent; the process driver does not enforce it. */
  readonly cpu?: string
  readonly memory?: string
  /** More `peer agent` flags for every agent. */
  readonly agentArgs?: readonly string[]
  /** More `peer agent` flags for one host's agent (its site label), after agentArgs. */
  readonly agentArgsFor?: (host: Host) => readonly string[]
  /**
   * Each data directory on a tmpfs of this size, so the disk-full fault can fill it to the last
   * byte without touching this machine's disk. Absent: plain directories under the run's base.
   */
  readonly dataDirMiB?: number
  /**
   * Agents run containers (`--docker auto`) as well as processes: on this machine's Docker engine,
   * or on the one DOCKER_HOST names in agentEnvFor (each host its own: engines.ts).
   */
  readonly docker?: boolean
  /**
   * The path of another build's `cli/main.js` to run agents from (to compare builds), instead of the
   * bin the tests build (test/peer-command.ts).
   */
  readonly builtCli?: string
  /** How long an agent may take to listen after its start (READY_TIMEOUT_MS by default). */
  readonly readyTimeoutMs?: number
  /**
   * A place for clients outside every host (network.ts addClient): the bridge's namespace gets an
   * address on the hosts' network. Hosts.client names it.
   */
  readonly client?: boolean
  /** More environment for one host's agent (e.g. DOCKER_HOST naming the host's own engine). */
  readonly agentEnvFor?: (host: Host) => Readonly<Record<string, string>>
  /** Another network than one bridge for all (nat-topology.ts): count must match its hosts. */
  readonly topology?: Topology
}

/** A network other than the flat one: its own namespaces, addresses, join lists and hosts with a key of their own. */
export interface Topology {
  readonly plan: NetworkPlan
  /** Every namespace it makes, hosts first (teardown deletes them in this order). */
  readonly namespaces: readonly string[]
  create(): Promise<void>
  /** The `--join` list of `host`'s agent, asked when it starts (default: every other host). */
  joinFor?(host: Host, hosts: readonly Host[]): string[]
  /** Hosts (by index) given a swarm key of their own instead of h1's: strangers to the cluster. */
  readonly strangers?: readonly number[]
}

export class Hosts {
  /**
   * Every agent exit, in order. The nemesis ends agents only with SIGKILL, so an exit by any other
   * way is an agent that died by itself.
   */
  readonly exits: AgentExit[] = []
  private tornDown = false
  private readonly onExit = (): void => {
    try {
      this.teardown()
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`)
    }
  }
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.onExit()
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }

  private constructor(
    readonly hosts: readonly Host[],
    readonly base: string,
    private readonly plan: NetworkPlan,
    private readonly init: HostsInit,
  ) {}

  /**
   * Makes the network and the data directories; starts no agent. Throws (never skips) when this
   * machine cannot make namespaces: these tests need root, which CI has.
   */
  static async create(init: HostsInit): Promise<Hosts> {
    await checkNamespacesWork().catch((error: Error) => {
      throw new Error(`hosts need network namespaces (root, iproute2, iptables): ${error.message}`)
    })
    const plan = init.topology?.plan ?? planNetwork(init.count)
    const base = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}${process.pid}-`))
    const hosts: Host[] = []
    const made = new Hosts(hosts, base, plan, init)
    // Handlers first: from here on, any way out of the process removes what was made.
    made.registerHandlers()
    try {
      await (init.topology?.create() ?? createNetwork(plan))
      if (init.client === true) await addClient(plan)
      // What `peer init --data D1`, then `peer init --data Di --key-file D1/swarm.key` do, called
      // in-process: five CLI processes would cost seconds of CPU on a small machine for nothing.
      const firstKey = dataDirLayout(join(base, 'h1')).swarmKey
      for (const { index, namespace, address } of plan.hosts) {
        const dataDir = join(base, `h${index}`)
        if (init.dataDirMiB !== undefined) mountTmpfs(dataDir, init.dataDirMiB)
        const ownKey = index === 1 || init.topology?.strangers?.includes(index) === true
        const { peerId } = await initDataDir(dataDir, ownKey ? {} : { keyFile: firstKey })
        // Beside the data directory, not in it: a full data directory must not cost the evidence.
        hosts.push({ index, name: `h${index}`, namespace, address, dataDir, socket: dataDirLayout(dataDir).socket, log: join(base, `h${index}.log`), peerId })
      }
    } catch (error) {
      made.teardown()
      throw error
    }
    return made
  }

  /** Where clients outside every host run (HostsInit.client): a namespace and its address. */
  get client(): { readonly namespace: string; readonly address: string } {
    if (this.init.client !== true) throw new Error('these hosts were made without a client place (HostsInit.client)')
    return { namespace: this.plan.bridgeNamespace, address: this.plan.clientAddress }
  }

  host(name: string): Host {
    const host = this.hosts.find((candidate) => candidate.name === name)
    if (host === undefined) throw new RangeError(`no host ${name}`)
    return host
  }

  /** The host whose agent has peer id `peerId`. */
  byPeerId(peerId: string): Host | undefined {
    return this.hosts.find((host) => host.peerId === peerId)
  }

  /** Starts `host`'s agent inside its namespace and resolves once it listens. */
  async startAgent(host: Host): Promise<void> {
    if (host.agent !== undefined) throw new Error(`${host.name}: its agent is already running`)
    const joinAddresses = this.init.topology?.joinFor?.(host, this.hosts) ?? this.hosts.filter((other) => other !== host).map((other) => `${other.address}:${AGENT_PORT}`)
    const command = inNamespace(host.namespace, [
      ...(this.init.builtCli === undefined ? PEER_COMMAND : [process.execPath, '--', resolvePath(this.init.builtCli)]), 'agent',
      '--data', host.dataDir,
      '--listen', `${host.address}:${AGENT_PORT}`,
      '--docker', this.init.docker === true ? 'auto' : 'off',
      '--cpu', this.init.cpu ?? '2',
      '--memory', this.init.memory ?? '2Gi',
      '--labels', `host=${host.name}`,
      // A harness that dies without teardown still takes its agents (and their tasks) with it.
      '--exit-on-stdin-close',
      ...(this.init.agentArgs ?? []),
      ...(this.init.agentArgsFor?.(host) ?? []),
      ...(joinAddresses.length > 0 ? ['--join', ...joinAddresses] : []),
    ])
    // `ip netns exec` execs the command, so the child's pid is the agent's own.
    const env = this.init.agentEnvFor === undefined ? {} : { env: { ...process.env, ...this.init.agentEnvFor(host) } }
    const child = spawn(command[0]!, command.slice(1), { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'], ...env })
    const log = createWriteStream(host.log, { flags: 'a' })
    // A log that cannot be written must not end the run: its lines are dropped instead.
    log.on('error', () => {
      child.stderr!.unpipe(log)
      child.stderr!.resume()
    })
    child.stderr!.pipe(log)
    host.agent = child
    host.agentExited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.tornDown) this.exits.push({ host: host.name, at: Date.now(), code, signal })
        if (host.agent === child) host.agent = undefined
        resolve()
      })
    })
    const listening = new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (/^peer \S+ listening on/.test(line)) resolve()
      })
      void host.agentExited!.then(() => reject(new Error(`${host.name}: agent exited while starting; its log: ${host.log}`)))
    })
    let timer: NodeJS.Timeout | undefined
    const readyMs = this.init.readyTimeoutMs ?? READY_TIMEOUT_MS
    try {
      await Promise.race([listening, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${host.name}: agent not listening within ${readyMs} ms; its log: ${host.log}`)), readyMs)))])
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Starts every agent, at most `concurrency` at a time: ten agents starting at once on a busy
   * two-core machine can each take longer than the ready timeout to load.
   */
  async startAll(concurrency = Infinity): Promise<void> {
    const waiting = [...this.hosts]
    const worker = async (): Promise<void> => {
      for (let host = waiting.shift(); host !== undefined; host = waiting.shift()) await this.startAgent(host)
    }
    await Promise.all(Array.from({ length: Math.min(concurrency, waiting.length) }, worker))
  }

  /** Until `host`'s agent lists `count` members alive, itself included. */
  async waitForMembers(host: Host, count: number, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let seen = 'no answer yet'
    for (;;) {
      if (host.agent === undefined) throw new Error(`${host.name}: agent not running; its log: ${host.log}`)
      try {
        const { nodes } = await ask({ peer: host.socket, timeoutMs: 2_000 }, 'GET /v1/nodes')
        const alive = nodes.filter((node) => node.status === 'alive').length
        if (alive >= count) return
        seen = `${alive} alive`
      } catch (error) {
        seen = (error as Error).message
      }
      if (Date.now() > deadline) throw new Error(`${host.name}: not ${count} members alive within ${timeoutMs} ms (${seen}); its log: ${host.log}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /**
   * Removes everything the run made. Blocking, so that 'exit' handlers can call it; safe to call
   * more than once. Throws afterwards if something could not be removed, so a leak fails the test.
   */
  teardown(): void {
    if (this.tornDown) return
    this.tornDown = true
    this.unregisterHandlers()
    for (const host of this.hosts) {
      host.agent?.stdin?.destroy()
      host.agent?.stdout?.destroy()
      host.agent?.stderr?.destroy()
    }
    // Hosts first, the bridge last: each veth is then deleted from its host's side.
    const problems = destroyNetworkSync(this.init.topology?.namespaces ?? [...this.plan.hosts.map((host) => host.namespace), this.plan.bridgeNamespace])
    problems.push(...unmountUnder(this.base))
    rmSync(this.base, { recursive: true, force: true })
    if (problems.length > 0) throw new Error(`teardown left things behind: ${problems.join('; ')}`)
  }

  private registerHandlers(): void {
    process.once('exit', this.onExit)
    process.once('SIGINT', this.onSignal)
    process.once('SIGTERM', this.onSignal)
  }

  private unregisterHandlers(): void {
    process.off('exit', this.onExit)
    process.off('SIGINT', this.onSignal)
    process.off('SIGTERM', this.onSignal)
  }
}
