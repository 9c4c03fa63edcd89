// This peer's advert on its own, through its deps: what it announces, and when it is due.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { OwnAdvert } from '../../../core/protocol/own-advert.js'
import { ClusterState, defaultConfig, type TaskView } from '../../../core/index.js'
import { DEFAULT_CAPACITY, p, slot } from './harness.js'

const config = defaultConfig(3)

function fake(tasks: TaskView[] = []) {
  const cluster = new ClusterState()
  const advert = new OwnAdvert(
    { self: p('a'), config, cluster, incarnation: () => 7, tasks: () => tasks },
    { capacity: DEFAULT_CAPACITY, labels: { zone: 'z1' }, drivers: ['process'] },
  )
  return { advert, cluster }
}

const task = (index: number, state: TaskView['state']): TaskView => ({
  slot: slot('web', index), service: 'web' as TaskView['service'], peer: p('a'), specHash: 'h', state, since: 0,
  resources: { cpuMilli: 100, memoryMiB: 64, extended: {} }, ports: [],
})

const Advert = suite('own advert')

Advert('it lists the tasks, counts only the active ones as allocated, and is stored in the cluster view at once', () => {
  const { advert, cluster } = fake([task(0, 'running'), task(1, 'complete'), task(2, 'pending')])
  advert.publish(0)
  const stored = cluster.advert(p('a'))!
  assert.equal([stored.incarnation, stored.version, stored.tasks.length], [7, 1, 3])
  assert.equal(stored.allocated, { cpuMilli: 200, memoryMiB: 128, extended: {} })
})

Advert('an ownership change is due at once; a state change alone after the debounce, unless an urgent one comes first', () => {
  const { advert } = fake()
  assert.is(advert.nextWakeAt(), Infinity, 'nothing published yet')
  advert.publish(100, false)
  assert.is(advert.nextWakeAt(), 100 + config.advertDebounceMs)
  assert.is(advert.takeDue(100 + config.advertDebounceMs - 1), undefined)
  advert.publish(150)
  assert.is(advert.takeDue(150)?.version, 2, 'the newest version goes out')
  assert.is(advert.nextWakeAt(), Infinity)
  assert.is(advert.takeDue(1_000), undefined, 'sent once')
})

Advert('a peer that leaves drops the broadcast still pending', () => {
  const { advert } = fake()
  advert.publish(0)
  advert.cancel()
  assert.is(advert.takeDue(0), undefined)
})

Advert('a measurement goes out only when it moved past the band around what was last advertised', () => {
  const running = [task(0, 'running'), task(1, 'running')]
  const { advert, cluster } = fake(running)
  const measured = (cpu0: number, memory0: number) => [
    { slot: slot('web', 0), cpuMilli: cpu0, memoryMiB: memory0 },
    { slot: slot('web', 1), cpuMilli: 3, memoryMiB: 20 },
  ]
  advert.publish(0)
  advert.takeDue(0)
  advert.setUsage(measured(100, 50), 1_000)
  assert.ok(advert.takeDue(1_000 + config.advertDebounceMs), 'the first measurement goes out')
  // 100m → 105m, 50 → 52 MiB: within the band (10 % or 10m; 10 % or 4 MiB); nothing pending.
  advert.setUsage(measured(105, 52), 11_000)
  assert.is(advert.nextWakeAt(), Infinity)
  assert.equal(cluster.advert(p('a'))!.usage![0], { slot: slot('web', 0), cpuMilli: 100, memoryMiB: 50 }, 'the advert keeps the figures it carried')
  // A drift is measured from what was advertised, not from the last measurement: 100m → 115m goes out.
  advert.setUsage(measured(115, 52), 21_000)
  assert.is(advert.takeDue(21_000 + config.advertDebounceMs)!.usage![0]!.cpuMilli, 115)
  // A measured task more or fewer goes out whatever its figures.
  advert.setUsage(measured(115, 52).slice(0, 1), 31_000)
  assert.ok(advert.takeDue(31_000 + config.advertDebounceMs))
})

Advert.run()
