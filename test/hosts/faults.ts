// The nemesis: faults on real hosts, each recorded in the history with when it began and ended. It
// only injects; what the cluster did about it is the observer's to see and the checker's to judge.
//
// crash and kill are different faults on purpose. crash is a power cut: the host's traffic is dropped
// first, so peers get no FIN or RST and must notice the silence, then every process on the host (the
// agent and all its tasks) is SIGKILLed. kill ends only the agent: the kernel closes its sockets at
// once, so peers learn at once, and its tasks keep running as orphans.
//
// A one-way drop is one iptables rule in the sender's OUTPUT chain; a full disk is a real tmpfs under
// the host's data directory filled to its last byte. An offline reboot is no fault of its own here:
// the nemesis composes it from an isolation, a crash and a restart (nemesis.ts).

import { open, rm, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { Firewall, type Rule } from './firewall.js'
import type { FaultRecord, HistoryRecorder } from './history.js'
import type { Host, Hosts } from './hosts.js'
import { killAll, processesIn } from './processes.js'

const CRASH = 'crash'
const PARTITION = 'partition'
const LOSS = 'loss'
const ONE_WAY = 'one-way'
/** The file the disk-full fault fills a data directory with, and removes to free it. */
const FILLER = '.nemesis-filler'

export class Faults {
  private readonly firewalls = new Map<string, Firewall>()

  constructor(
    private readonly hosts: Hosts,
    private readonly recorder: HistoryRecorder,
    /** What else a power cut ends besides the host's processes: its containers, with the Docker driver. */
    private readonly alsoOnPowerCut?: (host: Host) => Promise<void>,
  ) {
    for (const host of hosts.hosts) this.firewalls.set(host.name, new Firewall(host.namespace))
  }

  /** Power cut: silence first, then SIGKILL every process on the host. Resolves when none is left. */
  async crash(host: Host): Promise<FaultRecord> {
    const firewall = this.firewall(host)
    await firewall.drop(CRASH, 'INPUT', ['-i', 'eth0'])
    await firewall.drop(CRASH, 'OUTPUT', ['-o', 'eth0'])
    const fault = this.recorder.faultBegins({ kind: 'crash', hosts: [host.name] })
    const exited = host.agentExited
    await Promise.all([this.killEverything(host), this.alsoOnPowerCut?.(host)])
    await exited
    return fault
  }

  /** Power back (or the agent started again after kill): lifts the crash's drop, starts the agent from its data dir. */
  async restart(host: Host): Promise<void> {
    await this.firewall(host).lift(CRASH)
    // A power cut ends when power is back; an agent-only kill when the agent listens again, since
    // its orphaned tasks run unmanaged until then.
    for (const fault of this.recorder.openFaults('crash', host.name)) this.recorder.faultEnds(fault)
    await this.hosts.startAgent(host)
    for (const fault of this.recorder.openFaults('kill', host.name)) this.recorder.faultEnds(fault)
  }

  /** SIGKILL of the agent alone; its tasks keep running. */
  async kill(host: Host): Promise<FaultRecord> {
    const agent = host.agent
    if (agent === undefined) throw new Error(`${host.name}: no agent to kill`)
    const exited = host.agentExited
    const fault = this.recorder.faultBegins({ kind: 'kill', hosts: [host.name] })
    agent.kill('SIGKILL')
    await exited
    return fault
  }

  /** No packet crosses between hosts of different groups (both ways); within a group all flows. */
  async partition(groups: readonly (readonly Host[])[]): Promise<FaultRecord> {
    const pairs: [Host, Host][] = []
    for (const [i, group] of groups.entries()) {
      for (const other of groups.slice(i + 1)) for (const host of group) for (const away of other) pairs.push([host, away])
    }
    const detail = groups.map((group) => group.map((host) => host.name).join(' ')).join(' | ')
    return this.separate(pairs, groups.flat(), detail)
  }

  /**
   * `left` and `right` cannot reach each other, but `bridge` reaches both: a host with two links,
   * or a cluster whose two sites see a third one. Membership then hears of each side through the
   * bridge while no direct connection crosses.
   */
  async bridge(left: readonly Host[], bridge: Host, right: readonly Host[]): Promise<FaultRecord> {
    const pairs = left.flatMap((host) => right.map((away): [Host, Host] => [host, away]))
    const detail = `${left.map((host) => host.name).join(' ')} | ${bridge.name} | ${right.map((host) => host.name).join(' ')} (${bridge.name} sees both)`
    return this.separate(pairs, [...left, bridge, ...right], detail)
  }

  /** Drops, both ways and on both ends, every packet between the hosts of each pair. */
  private async separate(pairs: readonly (readonly [Host, Host])[], involved: readonly Host[], detail: string): Promise<FaultRecord> {
    // Each host's rules in one step, the hosts side by side: the cut lands at once everywhere.
    const byHost = new Map<Host, Host[]>()
    for (const [a, b] of pairs) {
      byHost.set(a, [...(byHost.get(a) ?? []), b])
      byHost.set(b, [...(byHost.get(b) ?? []), a])
    }
    await Promise.all([...byHost].map(([host, aways]) => this.firewall(host).dropAll(PARTITION, aways.flatMap((away): Rule[] => [
      { chain: 'INPUT', match: ['-s', away.address] },
      { chain: 'OUTPUT', match: ['-d', away.address] },
    ]))))
    const separated = pairs.map(([a, b]) => [a.name, b.name] as const)
    return this.recorder.faultBegins({ kind: 'partition', hosts: involved.map((host) => host.name), detail, separated })
  }

  /**
   * Ends every partition. The record ends as lifting begins: each host's rules go in one step, the
   * hosts side by side, so the heal lands within tens of milliseconds everywhere.
   */
  async heal(): Promise<void> {
    for (const fault of this.recorder.openFaults('partition')) this.recorder.faultEnds(fault)
    await Promise.all([...this.firewalls.values()].map((firewall) => firewall.lift(PARTITION)))
  }

  /** SIGSTOP of the agent: a long GC pause or a stalled VM. Its tasks keep running. */
  pause(host: Host): FaultRecord {
    this.signalAgent(host, 'SIGSTOP')
    return this.recorder.faultBegins({ kind: 'pause', hosts: [host.name] })
  }

  resume(host: Host): void {
    this.signalAgent(host, 'SIGCONT')
    for (const fault of this.recorder.openFaults('pause', host.name)) this.recorder.faultEnds(fault)
  }

  /**
   * Drops each packet into and out of the host's link with probability `probability` (there is no
   * netem in this kernel; iptables' statistic match does the same for loss).
   */
  async loss(host: Host, probability: number): Promise<FaultRecord> {
    if (!(probability > 0 && probability <= 1)) throw new RangeError(`loss probability: (0, 1], not ${probability}`)
    const random = ['-m', 'statistic', '--mode', 'random', '--probability', String(probability)]
    await this.firewall(host).drop(LOSS, 'INPUT', ['-i', 'eth0', ...random])
    await this.firewall(host).drop(LOSS, 'OUTPUT', ['-o', 'eth0', ...random])
    return this.recorder.faultBegins({ kind: 'loss', hosts: [host.name], detail: `p=${probability}` })
  }

  async endLoss(host: Host): Promise<void> {
    await this.firewall(host).lift(LOSS)
    for (const fault of this.recorder.openFaults('loss', host.name)) this.recorder.faultEnds(fault)
  }

  /**
   * `from`'s packets to `to` are dropped, `to`'s to `from` are not: a rule in OUTPUT in `from`'s
   * namespace only. Replies `to` sends are delivered, but nothing `from` sends reaches it.
   */
  async oneWay(from: Host, to: Host): Promise<FaultRecord> {
    await this.firewall(from).drop(ONE_WAY, 'OUTPUT', ['-d', to.address])
    return this.recorder.faultBegins({ kind: 'one-way', hosts: [from.name, to.name], detail: `${from.name} → ${to.name} dropped`, separated: [[from.name, to.name]] })
  }

  async endOneWay(): Promise<void> {
    for (const fault of this.recorder.openFaults('one-way')) this.recorder.faultEnds(fault)
    await Promise.all([...this.firewalls.values()].map((firewall) => firewall.lift(ONE_WAY)))
  }

  /**
   * Fills the file system under the host's data directory (a tmpfs: Hosts' dataDirMiB) to the last
   * byte with one file, so every write of the agent there fails with ENOSPC. The record's detail
   * says how many bytes that took.
   */
  async fillDisk(host: Host): Promise<FaultRecord> {
    const path = join(host.dataDir, FILLER)
    const chunk = Buffer.alloc(64 * 1024)
    const file = await open(path, 'a')
    let bytes = 0
    try {
      // Smaller and smaller writes at the end: the last page of the file system goes too.
      for (let size = chunk.length; size >= 1;) {
        try {
          const { bytesWritten } = await file.write(chunk, 0, size)
          bytes += bytesWritten
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
          size = Math.floor(size / 2)
        }
      }
    } finally {
      await file.close()
    }
    const { bavail, bsize } = await statfs(host.dataDir)
    if (Number(bavail) * Number(bsize) > 0) throw new Error(`${host.name}: ${Number(bavail) * Number(bsize)} bytes still free after filling ${host.dataDir}`)
    return this.recorder.faultBegins({ kind: 'disk-full', hosts: [host.name], detail: `${host.dataDir} filled with ${bytes} bytes` })
  }

  async freeDisk(host: Host): Promise<void> {
    await rm(join(host.dataDir, FILLER), { force: true })
    for (const fault of this.recorder.openFaults('disk-full', host.name)) this.recorder.faultEnds(fault)
  }

  private firewall(host: Host): Firewall {
    return this.firewalls.get(host.name)!
  }

  private signalAgent(host: Host, signal: NodeJS.Signals): void {
    if (host.agent === undefined || !host.agent.kill(signal)) throw new Error(`${host.name}: no agent to send ${signal}`)
  }

  /** Kills until the namespace is empty: a task may be forking while we look. */
  private async killEverything(host: Host): Promise<void> {
    const deadline = Date.now() + 5_000
    for (;;) {
      const left = processesIn(host.namespace)
      if (left.length === 0) return
      if (Date.now() > deadline) throw new Error(`${host.name}: pids ${left.join(' ')} survived SIGKILL for 5 s`)
      killAll(left)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}
