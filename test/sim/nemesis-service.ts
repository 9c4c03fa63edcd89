// The world of the real-host tests (test/hosts/cluster.ts) as simulator input: the nemesis's service
// (a process, 50m and 16 MiB, an env ROUND each apply changes; update defaults: stop-first, one slot
// at a time) and `count` peers of 2 cores and 2 GiB that run processes.

import { peerId, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'

export function nemesisService(replicas: number, round: string): ServiceSpec {
  const result = validateServices({ services: { web: { command: 'serve', replicas, env: { ROUND: round }, resources: { cpu: '50m', memory: 16 } } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services[0]!
}

export function processPeers(count: number): PeerView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: peerId(`p${i}`), state: 'alive', capacity: { cpuMilli: 2000, memoryMiB: 2048, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['process'], tasks: [],
  }))
}
