// Service discovery and the routing mesh on real hosts, with the process driver: the two-tier
// scenario (two-tier-scenario.ts) once with the userspace proxy and once with kernel NAT rules
// (iptables works inside each namespace). The agents run as root with the default service range
// (127.77.0.0/16), so their DNS is on 127.77.0.1:53 and the tasks find it in PEER_DNS.
//
// Needs root (namespaces, iptables): it fails, never skips, without them — CI runs as root.

import { suite } from 'uvu'
import { readFileSync } from 'node:fs'
import { HistoryRecorder } from './history.js'
import type { Hosts } from './hosts.js'
import { Observer } from './observer.js'
import { twoTierThroughAPowerCut, type TierDriver } from './two-tier-scenario.js'
import { processApp } from './two-tier.js'

/** The PORT a task process was given, read from its environment. */
function portOf(pid: number): number {
  const entry = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').find((variable) => variable.startsWith('PORT='))
  if (entry === undefined) throw new Error(`pid ${pid} has no PORT`)
  return Number(entry.slice('PORT='.length))
}

/** Tasks as processes, found in the hosts' namespaces by the observer (observer.ts). */
function processes(): TierDriver {
  let observer: Observer | undefined
  return {
    name: 'processes',
    hostsInit: {},
    dns: '127.77.0.1:53',
    serviceAddress: /^127\.77\./,
    async prepare(hosts: Hosts) {
      observer = new Observer(hosts.hosts, new HistoryRecorder(hosts.hosts.map((host) => ({ name: host.name, cpuMilli: 2_000, memoryMiB: 2_048 }))))
      observer.start()
    },
    services: processApp,
    async placed(_hosts, slot) {
      const copies = observer!.latest().copies.filter((copy) => copy.slot === slot)
      if (copies.length !== 1) return undefined
      // The port the process was given and listens on: the same for every port it has here, as
      // each tier has one.
      return { host: copies[0]!.host, port: portOf(copies[0]!.pid) }
    },
    teardown() {
      observer?.stop()
    },
  }
}

const discovery = suite('hosts: service discovery and the routing mesh (processes)')

discovery('two tiers by name through the userspace proxy: every host\'s published port answers from outside, DNS names the ready task only, and a power cut of the back end\'s host is recovered within 3 s of the replacement turning healthy', async () => {
  await twoTierThroughAPowerCut(processes(), 'userspace')
})

discovery('the same through kernel NAT rules', async () => {
  await twoTierThroughAPowerCut(processes(), 'kernel')
})

discovery.run()
