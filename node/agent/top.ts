// `GET /v1/top`: per peer and per service, what active tasks requested and what they use, from the
// views and the usage each advert carries. Dead peers are left out: their tasks are being replaced.

import { isActive, type PeerId, type PeerView, type TaskUsage } from '../../core/index.js'
import type { TopAmount, TopAnswer, TopPeerRow, TopServiceRow } from '../control/index.js'

interface Tally {
  tasks: number
  measured: number
  requested: { cpuMilli: number; memoryMiB: number }
  used: { cpuMilli: number; memoryMiB: number }
}

const tally = (): Tally => ({ tasks: 0, measured: 0, requested: { cpuMilli: 0, memoryMiB: 0 }, used: { cpuMilli: 0, memoryMiB: 0 } })
const usedOf = (t: Tally): TopAmount | null => (t.measured === 0 ? null : { ...t.used })

export function topAnswer(self: PeerId, views: readonly PeerView[], usage: ReadonlyMap<PeerId, readonly TaskUsage[]>): TopAnswer {
  const peers: TopPeerRow[] = []
  const services = new Map<string, Tally>()
  for (const view of views) {
    if (view.state === 'dead') continue
    const measuredSlots = new Map((usage.get(view.id) ?? []).map((entry) => [entry.slot, entry]))
    const own = tally()
    for (const task of view.tasks) {
      if (!isActive(task.state)) continue
      let service = services.get(task.service)
      if (service === undefined) services.set(task.service, (service = tally()))
      const measured = measuredSlots.get(task.slot)
      for (const t of [own, service]) {
        t.tasks++
        t.requested.cpuMilli += task.resources.cpuMilli
        t.requested.memoryMiB += task.resources.memoryMiB
        if (measured === undefined) continue
        t.measured++
        t.used.cpuMilli += measured.cpuMilli
        t.used.memoryMiB += measured.memoryMiB
      }
    }
    peers.push({
      peer: view.id,
      self: view.id === self,
      state: view.state,
      capacity: { cpuMilli: view.capacity.cpuMilli, memoryMiB: view.capacity.memoryMiB },
      requested: own.requested,
      used: usedOf(own),
      tasks: own.tasks,
      measured: own.measured,
    })
  }
  const serviceRows: TopServiceRow[] = [...services]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, t]) => ({ service, tasks: t.tasks, requested: t.requested, used: usedOf(t), measured: t.measured }))
  return { peer: self, peers: peers.sort((a, b) => a.peer.localeCompare(b.peer)), services: serviceRows }
}
