// The simulator hands one message object to every receiver: a broadcast's member record or advert is
// then held by every machine it reached, once in the process, not once per machine. That is sound only
// while no machine changes a message it sent or received. Here every message is frozen before it is
// delivered (SimOptions.freezeMessages), through placement, kills and restarts, partitions and loss,
// with sites: a machine that changed one would throw — and the run must be the same run as unfrozen.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { seededRandom } from '../../core/index.js'
import { networkConfigWithFaults, parseFaultSpec } from '../../sim/faults.js'
import { NETWORK_PROFILES } from '../../sim/network.js'
import { Simulation, type SimResult } from '../../sim/runner.js'
import { syntheticPeerViews, syntheticServices } from '../../sim/workload.js'

function run(seed: number, freezeMessages: boolean, profile: 'datacenter' | 'edge'): SimResult {
  const faults = parseFaultSpec('kill=3,partition=1,pause=1,loss=0.05,dup=0.02,slow=0.1')
  if (!faults.ok) throw new Error(faults.error)
  const random = seededRandom(seed)
  const services = syntheticServices(random.fork('workload'), { replicas: 120 })
  const peers = syntheticPeerViews(random.fork('peers'), 24, profile, services)
  return new Simulation({
    seed, peers, services, durationMs: 40_000, faults: faults.spec,
    network: networkConfigWithFaults(NETWORK_PROFILES.lan, faults.spec), profile: 'lan', freezeMessages,
  }).run()
}

for (const [seed, profile] of [[1, 'datacenter'], [2, 'edge']] as const) {
  test(`no machine changes a message it shares with others (seed ${seed}, ${profile} peers): frozen, the run is the same run`, () => {
    const frozen = run(seed, true, profile)
    const plain = run(seed, false, profile)
    assert.ok(frozen.metrics.events > 10_000, 'the run did something')
    assert.equal(frozen.metrics, plain.metrics)
    assert.equal(frozen.violations, plain.violations)
  })
}

test.run()
