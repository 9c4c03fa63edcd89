// One Docker engine per host, inside the host's network namespace, so that a host's containers live on
// that host's network as they would on a real machine: published ports on its address, its agent's
// DNS and service addresses reachable from them. (The machine's own engine puts every container in
// the machine's namespace, where no host's agent can be reached.)
//
// `ip netns exec NS dockerd` fails (it mounts a fresh /sys, and "Devices cgroup isn't mounted"), so
// each engine is started as `nsenter --net=<ns> unshare -m --propagation slave dockerd …`: the host's
// network, a mount namespace of its own (its overlay and netns mounts never reach the machine's), its
// own data root, exec root (so its own containerd) and socket under the run's directory. Each engine
// has a bridge of its own (`--bip`, a distinct subnet per host) and manages iptables inside the
// namespace, so publishing works as on a machine: DNAT to the container, MASQUERADE out of the
// bridge. Host networking was no option: a task's container listens on its container port, and two
// tasks (or web and kv) on one host would clash; the agent advertises the port it picked, which
// only Docker's publishing maps to the container.
//
// A container's processes are not in the host's network namespace, so killing every process there
// (a power cut, teardown) does not reach them: they are found by their cgroup (cgroupfs driver,
// `/docker/<id>`, the ids being the engine's containers/ directory) and killed there.

import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Docker from 'dockerode'
import { isAlive } from '../../node/runtime/proc.js'
import { run } from './command.js'
import type { Host } from './hosts.js'
import { killAll } from './processes.js'

/**
 * The engines' directories: `peer-engines-<pid>-XXXXXX`, apart from the hosts' own (which their
 * teardown removes while the containers, outside the hosts' namespaces, may still run).
 */
const ENGINES_PREFIX = 'peer-engines-'

const READY_TIMEOUT_MS = 60_000
const CGROUP_ROOT = '/sys/fs/cgroup'

export interface Engine {
  readonly host: string
  readonly dataRoot: string
  readonly socket: string
  readonly log: string
  /** `DOCKER_HOST` for whoever should use this engine (the host's agent). */
  readonly dockerHost: string
  readonly docker: Docker
  process?: ChildProcess
}

export class Engines {
  private readonly engines = new Map<string, Engine>()
  readonly base = mkdtempSync(join(tmpdir(), `${ENGINES_PREFIX}${process.pid}-`))
  private tornDown = false
  private readonly onExit = (): void => {
    const problems = this.teardownSync()
    if (problems.length > 0) process.stderr.write(`${problems.join('\n')}\n`)
  }

  /**
   * Nothing started yet. Teardown goes after the hosts' (whose end kills the engines and the
   * agents, so nothing restarts a container while they are killed): in the test's finally, and on
   * 'exit' — registered here, after the hosts' handler, so it runs after it.
   */
  constructor() {
    process.once('exit', this.onExit)
  }

  engine(host: Host): Engine {
    const known = this.engines.get(host.name)
    if (known !== undefined) return known
    // Short names: containerd's sockets under the exec root must fit a unix socket path.
    const dir = join(this.base, host.name)
    const socket = join(dir, 'docker.sock')
    const engine: Engine = { host: host.name, dataRoot: join(dir, 'data'), socket, log: join(dir, 'dockerd.log'), dockerHost: `unix://${socket}`, docker: new Docker({ socketPath: socket }) }
    this.engines.set(host.name, engine)
    return engine
  }

  /** Starts `host`'s engine in its namespace with bridge subnet `bip` (`172.31.1.1/24`) and waits for it to answer. */
  async start(host: Host, bip: string): Promise<Engine> {
    const engine = this.engine(host)
    const dir = join(engine.dataRoot, '..')
    mkdirSync(engine.dataRoot, { recursive: true })
    const child = spawn('nsenter', [
      `--net=/run/netns/${host.namespace}`, 'unshare', '-m', '--propagation', 'slave',
      'dockerd', '--data-root', engine.dataRoot, '--exec-root', join(dir, 'exec'), '--pidfile', join(dir, 'dockerd.pid'),
      '-H', engine.dockerHost, '--bip', bip, '--iptables=true', '--ip-masq=true',
    ], { stdio: ['ignore', 'ignore', 'pipe'] })
    const log = createWriteStream(engine.log)
    log.on('error', () => child.stderr!.resume())
    child.stderr!.pipe(log)
    engine.process = child
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    const deadline = Date.now() + READY_TIMEOUT_MS
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${host.name}: dockerd exited while starting; its log: ${engine.log}`)
      try {
        await engine.docker.ping()
        break
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${host.name}: dockerd not answering within ${READY_TIMEOUT_MS} ms (${(error as Error).message}); its log: ${engine.log}`)
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 200))])
    }
    return engine
  }

  /** Loads `image` from the machine's engine into each of `hosts`' engines (no registry needed). */
  async loadImage(image: string, hosts: readonly Host[]): Promise<void> {
    const tar = join(this.base, 'image.tar')
    await run(['docker', 'save', '-o', tar, image])
    await Promise.all(hosts.map((host) => run(['docker', '-H', this.engine(host).dockerHost, 'load', '-i', tar])))
  }

  /**
   * SIGKILLs every process of every container `host`'s engine made, however its engine is doing
   * (dead after a power cut, too); resolves when none is left.
   */
  async killContainers(host: Host): Promise<void> {
    const deadline = Date.now() + 5_000
    for (;;) {
      const left = this.containerPids(host)
      if (left.length === 0) return
      if (Date.now() > deadline) throw new Error(`${host.name}: container pids ${left.join(' ')} survived SIGKILL for 5 s`)
      killAll(left)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  /**
   * Blocking, after the hosts' teardown (which ended the engines and agents with their namespaces):
   * kills every container process of every engine, removes the containers' cgroups, which a killed
   * engine leaves behind, and the engines' directories. Safe to call twice. Returns what it could
   * not do, as sentences.
   */
  teardownSync(): string[] {
    if (this.tornDown) return []
    this.tornDown = true
    process.off('exit', this.onExit)
    return removeEnginesSync(this.base)
  }

  private containerPids(host: Host): number[] {
    return containerIds(this.engine(host)).flatMap(cgroupPids)
  }
}

/** Removes what the engines under `base` left: their containers' processes and cgroups, and `base`. */
function removeEnginesSync(base: string): string[] {
  const problems: string[] = []
  const ids = existsSync(base) ? readdirSync(base).flatMap((host) => idsIn(join(base, host, 'data'))) : []
  for (let attempt = 0; attempt < 50; attempt++) {
    const left = ids.flatMap(cgroupPids)
    if (left.length === 0) break
    killAll(left)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  }
  for (const id of ids) {
    const left = cgroupPids(id)
    if (left.length > 0) problems.push(`container ${id.slice(0, 12)}: pids ${left.join(' ')} survived SIGKILL`)
    else problems.push(...removeCgroups(id))
  }
  try {
    rmSync(base, { recursive: true, force: true })
  } catch (error) {
    problems.push(`${base}: ${(error as Error).message}`)
  }
  return problems
}

/** What runs of processes that no longer exist left of their engines (a run killed outright). */
export function sweepStaleEngines(): string[] {
  const problems: string[] = []
  for (const name of readdirSync(tmpdir())) {
    const match = new RegExp(`^${ENGINES_PREFIX}(\\d+)-`).exec(name)
    if (match === null || isAlive(Number(match[1]))) continue
    problems.push(...removeEnginesSync(join(tmpdir(), name)))
  }
  return problems
}

const containerIds = (engine: Engine): string[] => idsIn(engine.dataRoot)

function idsIn(dataRoot: string): string[] {
  const dir = join(dataRoot, 'containers')
  return existsSync(dir) ? readdirSync(dir).filter((name) => /^[0-9a-f]{64}$/.test(name)) : []
}

/** The processes in a container's cgroup (the pids controller: every process of a container is in it). */
function cgroupPids(id: string): number[] {
  try {
    return readFileSync(join(CGROUP_ROOT, 'pids', 'docker', id, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** A killed engine does not remove its containers' cgroups: every controller's is removed here. */
function removeCgroups(id: string): string[] {
  const problems: string[] = []
  for (const controller of readdirSync(CGROUP_ROOT)) {
    const dir = join(CGROUP_ROOT, controller, 'docker', id)
    if (!existsSync(dir)) continue
    try {
      rmdirSync(dir)
    } catch (error) {
      problems.push(`cgroup ${dir}: ${(error as Error).message}`)
    }
  }
  return problems
}
