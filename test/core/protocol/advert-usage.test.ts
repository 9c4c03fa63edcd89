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
import fc from 'fast-check'
import { CPU_BAND_MILLI, CPU_RELATIVE, MEMORY_BAND_MIB, MEMORY_RELATIVE, usageChanged } from '../../../core/protocol/usage-change.js'

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

usage('a measurement within the band of the advertised one is not a change; past it, or another set of tasks, is', () => {
  const at = (slot: string, cpuMilli: number, memoryMiB: number) => ({ slot: slot as SlotId, cpuMilli, memoryMiB })
  const advertised = [at('web/0', 200, 100), at('web/1', 0, 1)]
  assert.not.ok(usageChanged(advertised, [at('web/1', 9, 4), at('web/0', 181, 91)]), 'order does not matter; small moves stay in')
  assert.ok(usageChanged(advertised, [at('web/0', 180, 100), at('web/1', 0, 1)]), 'CPU down 10 %')
  assert.ok(usageChanged(advertised, [at('web/0', 200, 100), at('web/1', 10, 1)]), 'CPU up 10m from idle')
  assert.ok(usageChanged(advertised, [at('web/0', 200, 100), at('web/1', 0, 5)]), 'memory up 4 MiB')
  assert.ok(usageChanged(advertised, [at('web/0', 200, 100)]), 'a task fewer')
  assert.ok(usageChanged(advertised, [at('web/0', 200, 100), at('web/2', 0, 1)]), 'another task')
  assert.not.ok(usageChanged([], []))
})

usage('property: the band is symmetric, holds every measurement equal to the advertised one, and lets every move of at least its width through', () => {
  const figure = fc.integer({ min: 0, max: 64_000 })
  fc.assert(fc.property(figure, figure, figure, figure, (cpuA, memA, cpuB, memB) => {
    const a = [{ slot: 'web/0' as SlotId, cpuMilli: cpuA, memoryMiB: memA }]
    const b = [{ slot: 'web/0' as SlotId, cpuMilli: cpuB, memoryMiB: memB }]
    assert.is(usageChanged(a, b), usageChanged(b, a))
    assert.not.ok(usageChanged(a, a))
    const cpuWidth = Math.max(CPU_BAND_MILLI, CPU_RELATIVE * Math.max(cpuA, cpuB))
    const memWidth = Math.max(MEMORY_BAND_MIB, MEMORY_RELATIVE * Math.max(memA, memB))
    const past = Math.abs(cpuA - cpuB) >= cpuWidth || Math.abs(memA - memB) >= memWidth
    assert.is(usageChanged(a, b), past)
  }))
})

usage.run()
