// The network of a run of hosts: one namespace per host, each with a veth pair whose other end is a
// port of a Linux bridge that lives in a namespace of its own, so the machine's own network is never
// touched. Names carry this process's pid (`ph<pid>-<i>`, bridge `ph<pid>-br`), so test files running
// side by side never collide and a later run can tell leftovers of a dead run from a live one's.

import { existsSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isAlive } from '../../node/runtime/proc.js'
import { inNamespace, run, runSync } from './command.js'
import { unmountUnder } from './mounts.js'
import { emptyNamespaceSync } from './processes.js'

export interface HostAddress {
  readonly index: number
  readonly namespace: string
  readonly address: string
}

export interface NetworkPlan {
  readonly bridgeNamespace: string
  readonly hosts: readonly HostAddress[]
  readonly prefixLength: 24
  /**
   * An address for clients from outside the hosts (the last of the /24): given to the bridge in its
   * namespace by addClient(), so a process there reaches every host as a machine on their LAN would.
   */
  readonly clientAddress: string
}

const NAME = /^ph(\d+)-(?:\d+|br)$/
/** Temporary directories of runs: `peer-hosts-<pid>-XXXXXX`, swept with the namespaces. */
export const TEMP_PREFIX = 'peer-hosts-'

/**
 * Names and addresses for `count` hosts (1 … count). The /24 is drawn from the pid as well: every
 * run has its own bridge, so equal subnets could not meet anyway, but distinct ones keep two runs'
 * logs and captures from looking alike.
 */
export function planNetwork(count: number, pid = process.pid): NetworkPlan {
  if (count < 1 || count > 250) throw new RangeError(`hosts: 1 to 250, not ${count}`)
  const subnet = `10.${200 + (pid % 50)}.${pid % 250}`
  const hosts = Array.from({ length: count }, (_, i) => ({ index: i + 1, namespace: `ph${pid}-${i + 1}`, address: `${subnet}.${i + 1}` }))
  return { bridgeNamespace: `ph${pid}-br`, hosts, prefixLength: 24, clientAddress: `${subnet}.254` }
}

/** Makes the namespaces, the bridge and the links, and brings everything up. */
export async function createNetwork(plan: NetworkPlan): Promise<void> {
  const bridge = plan.bridgeNamespace
  await run(['ip', 'netns', 'add', bridge])
  await run(['ip', '-n', bridge, 'link', 'add', 'br0', 'type', 'bridge'])
  await run(['ip', '-n', bridge, 'link', 'set', 'br0', 'up'])
  for (const host of plan.hosts) {
    const port = `p${host.index}`
    await run(['ip', 'netns', 'add', host.namespace])
    // Made from inside the host's namespace with its peer end created straight in the bridge's,
    // so no interface ever appears (and could clash) in the machine's own namespace.
    await run(['ip', '-n', host.namespace, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', bridge])
    await run(['ip', '-n', bridge, 'link', 'set', port, 'master', 'br0', 'up'])
    await run(['ip', '-n', host.namespace, 'addr', 'add', `${host.address}/${plan.prefixLength}`, 'dev', 'eth0'])
    await run(['ip', '-n', host.namespace, 'link', 'set', 'eth0', 'up'])
    await run(['ip', '-n', host.namespace, 'link', 'set', 'lo', 'up'])
  }
}

/**
 * Gives the bridge's namespace the plan's client address, so that processes started there (with
 * `ip netns exec <bridge namespace>`) are clients on the hosts' network, outside every host.
 */
export async function addClient(plan: NetworkPlan): Promise<void> {
  await run(['ip', '-n', plan.bridgeNamespace, 'addr', 'add', `${plan.clientAddress}/${plan.prefixLength}`, 'dev', 'br0'])
  await run(['ip', '-n', plan.bridgeNamespace, 'link', 'set', 'lo', 'up'])
}

/** Whether this machine lets us make namespaces at all: a clear error up front beats a half-made network. */
export async function checkNamespacesWork(pid = process.pid): Promise<void> {
  const probe = `ph${pid}-probe`
  await run(['ip', 'netns', 'add', probe])
  try {
    await run(inNamespace(probe, ['iptables', '-w', '-L', 'INPUT', '-n']))
  } finally {
    await run(['ip', 'netns', 'del', probe])
  }
}

/**
 * Kills every process in each namespace, then deletes the namespaces (the veth pairs and the bridge
 * go with them). Safe to call twice and on a half-made network; blocking, for 'exit' handlers.
 * Returns what it could not do, as sentences.
 */
export function destroyNetworkSync(namespaces: readonly string[]): string[] {
  const problems: string[] = []
  for (const namespace of namespaces) {
    if (!existsSync(`/run/netns/${namespace}`)) continue
    const left = emptyNamespaceSync(namespace)
    if (left.length > 0) problems.push(`${namespace}: pids ${left.join(' ')} survived SIGKILL`)
    try {
      runSync(['ip', 'netns', 'del', namespace])
    } catch (error) {
      problems.push(`${namespace}: ${(error as Error).message}`)
    }
  }
  return problems
}

/** A zombie counts as gone: a run killed outright may wait a while to be reaped. */
const pidIsAlive = (pid: number): boolean => isAlive(pid)

/**
 * Removes what runs of processes that no longer exist left behind (a run killed with SIGKILL cannot
 * clean up after itself): their namespaces, with whatever still runs in them, and their temporary
 * directories. Returns the namespace names removed.
 */
export function sweepStale(): string[] {
  const stale = runSync(['ip', 'netns', 'list'])
    .split('\n')
    .map((line) => line.split(' ')[0]!)
    .filter((name) => {
      const match = NAME.exec(name) ?? /^ph(\d+)-probe$/.exec(name)
      return match !== null && !pidIsAlive(Number(match[1]))
    })
  // Hosts before bridges: a host's veth is then deleted from its own side.
  stale.sort((a, b) => Number(a.endsWith('-br')) - Number(b.endsWith('-br')))
  destroyNetworkSync(stale)
  for (const name of readdirSync(tmpdir())) {
    const match = new RegExp(`^${TEMP_PREFIX}(\\d+)-`).exec(name)
    if (match === null || pidIsAlive(Number(match[1]))) continue
    // A killed run's data directories may still be tmpfs mounts: rm would fail on them.
    unmountUnder(join(tmpdir(), name))
    rmSync(join(tmpdir(), name), { recursive: true, force: true })
  }
  return stale
}
