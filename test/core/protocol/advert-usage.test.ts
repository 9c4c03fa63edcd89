// Measured task usage in adverts: it round-trips, is optional (older peers send none), names only
// tasks of its own advert, and a new measurement republishes the advert without changing any task,
// so no peer re-reconciles for it.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { decodeMessage, encodeMessage } from '../../../core/protocol/codec.js'
import type { Advert, Message } from '../../../core/protocol/messages.js'
import { ClusterState } from '../../../core/protocol/cluster.js'
import type { PeerId, ServiceName, SlotId } from '../../../core/placement/ids.js'
import type { TaskView } from '../../../core/placement/view.js'

const PEER = 'p1' as PeerId
const resources = { cpuMilli: 100, memoryMiB: 64, extended: {} }
const task = (slot: string): TaskView => ({ slot: slot as SlotId, service: slot.split('/')[0] as ServiceName, peer: PEER, specHash: '0123456789abcdef', state: 'running', since: 1, resources, ports: [] })
const advert = (overrides: Partial<Advert> = {}): Advert => ({
  peer: PEER, incarnation: 1, version: 1, capacity: resources, allocated: resources, labels: {}, drivers: ['process'], tasks: [task('web/0'), task('web/1')], ...overrides,
})
const roundTrip = (message: Message) => decodeMessage(encodeMessage(message))

const usage = suite('task usage in adverts')

usage('round-trips, and is optional', () => {
  const withUsage = { kind: 'advert', advert: advert({ usage: [{ slot: 'web/0' as SlotId, cpuMilli: 12, memoryMiB: 3 }] }) } as const
  assert.equal(roundTrip(withUsage), { ok: true, message: withUsage })
  const without = { kind: 'advert', advert: advert() } as const
  assert.equal(roundTrip(without), { ok: true, message: without })
})

usage('a usage entry for a slot the advert does not list, or with a negative or fractional figure, is rejected with its path', () => {
  for (const [entry, path] of [
    [{ slot: 'web/7', cpuMilli: 1, memoryMiB: 1 }, 'advert.usage[0].slot'],
    [{ slot: 'web/0', cpuMilli: -1, memoryMiB: 1 }, 'advert.usage[0].cpuMilli'],
    [{ slot: 'web/0', cpuMilli: 1, memoryMiB: 1.5 }, 'advert.usage[0].memoryMiB'],
  ] as const) {
    const result = roundTrip({ kind: 'advert', advert: advert({ usage: [entry as never] }) })
    assert.is(result.ok, false)
    if (!result.ok) assert.is(result.error.path, path)
  }
})

usage('a new advert that changes only usage touches no service', () => {
  const cluster = new ClusterState()
  assert.ok((cluster.putAdvert(advert())?.size ?? 0) > 0)
  const touched = cluster.putAdvert(advert({ version: 2, usage: [{ slot: 'web/0' as SlotId, cpuMilli: 50, memoryMiB: 9 }] }))
  assert.equal([...(touched ?? ['not applied'])], [])
})

usage.run()
