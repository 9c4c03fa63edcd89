// `partition: majority` against the simulator: partitions of several shapes (one peer cut off, the
// cluster cut in halves, two pairs split off the rest) and random partitions with crashes, at 5 to
// 20 peers, over many seeds. Under `majority` no slot ever runs twice (the safety invariant is checked
// at every task start) and every slot runs once after the heal; under `serve` the same runs measure
// how long slots ran twice, a figure printed, not asserted. A crash (no partition) still fails over
// under `majority`, after the takeover delay. Figures print as one JSON line per suite.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { claimHoldMs, defaultConfig, peerId, seededRandom, takeoverDelayMs, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'
import { NO_FAULTS, parseFaultSpec, type FaultEvent } from '../../sim/faults.js'
import { NETWORK_PROFILES } from '../../sim/network.js'
import { sample } from '../../sim/random.js'
import { Simulation, type SimResult } from '../../sim/runner.js'

type Policy = 'serve' | 'majority'

/** Two services under the policy (three replicas and a singleton), beside a plain web tier. */
function services(policy: Policy, peers: number): ServiceSpec[] {
  const result = validateServices({
    services: {
      db: { command: 'db', replicas: Math.min(3, peers - 1), partition: policy, stopGrace: '1s' },
      lock: { command: 'lock', replicas: 1, partition: policy },
      web: { command: 'web', replicas: 8 },
    },
  })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

function peers(count: number): PeerView[] {
  return Array.from({ length: count }, (_, i) => ({
    id: peerId(`p${String(i).padStart(2, '0')}`), state: 'alive', capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['docker', 'process'], tasks: [],
  }))
}

type Shape = 'one isolated' | 'halves' | 'two pairs'

/** The shape's groups over a seeded shuffle of the peers, so each seed cuts different peers off. */
function groups(shape: Shape, ids: readonly string[], seed: number): string[][] {
  const order = sample(seededRandom(seed).fork('shape'), ids, ids.length)
  switch (shape) {
    case 'one isolated':
      return [order.slice(0, 1), order.slice(1)]
    case 'halves':
      // Even counts split evenly: no side has a majority.
      return [order.slice(0, Math.floor(ids.length / 2)), order.slice(Math.floor(ids.length / 2))]
    case 'two pairs':
      // 2|2 at four peers; beyond, the rest form a third group (a majority from 9 peers on).
      return [order.slice(0, 2), order.slice(2, 4), order.slice(4)].filter((group) => group.length > 0)
  }
}

const PARTITION_AT_MS = 12_000
const HEAL_AT_MS = 42_000
const SAFETY_END_MS = 50_000
const DURATION_MS = 75_000

function run(seed: number, count: number, policy: Policy, plan: FaultEvent[]): SimResult {
  return new Simulation({
    seed, peers: peers(count), services: services(policy, count), durationMs: DURATION_MS, faults: NO_FAULTS, faultPlan: plan,
    network: NETWORK_PROFILES.lan, profile: 'lan', safetyEndMs: SAFETY_END_MS,
  }).run()
}

function shapePlan(shape: Shape, count: number, seed: number): FaultEvent[] {
  const ids = peers(count).map((p) => p.id as string)
  return [
    { atMs: PARTITION_AT_MS, kind: 'partition', groups: groups(shape, ids, seed), healAtMs: HEAL_AT_MS },
    { atMs: SAFETY_END_MS, kind: 'heal' },
  ]
}

const describe = (r: SimResult) => r.violations.slice(0, 2).map((v) => `${v.invariant} at ${Math.round(v.atMs)} ms: ${v.detail}`).join('; ')

const shapes = suite('partition policy: partitions of several shapes')

const SIZES = [4, 5, 8, 13, 20]
const SHAPES: Shape[] = ['one isolated', 'halves', 'two pairs']
const SHAPE_SEEDS = 3

shapes(`majority: no slot runs twice and every slot runs once after the heal (${SHAPES.join(', ')}; ${SIZES.join(', ')} peers; ${SHAPE_SEEDS} seeds each)`, () => {
  const failures: string[] = []
  // Slot-seconds run twice by db and lock (the services under the policy), and by the web tier.
  const twice = { serve: { policy: 0, web: 0 }, majority: { policy: 0, web: 0 } }
  const add = (into: { policy: number; web: number }, result: SimResult) => {
    const { web = 0, ...rest } = result.duplicateSlotMsByService
    into.web += web / 1000
    into.policy += Object.values(rest).reduce((sum, ms) => sum + ms, 0) / 1000
  }
  let runs = 0
  for (const shape of SHAPES) {
    for (const count of SIZES) {
      for (let seed = 1; seed <= SHAPE_SEEDS; seed++) {
        const plan = shapePlan(shape, count, seed)
        const majority = run(seed, count, 'majority', plan)
        runs++
        if (majority.violations.length > 0) failures.push(`${shape}, ${count} peers, seed ${seed}: ${describe(majority)}`)
        add(twice.majority, majority)
        // The same partition under `serve`: what running every slot on every side costs.
        add(twice.serve, run(seed, count, 'serve', plan))
      }
    }
  }
  const rounded = (x: { policy: number; web: number }) => ({ dbAndLock: Math.round(x.policy), web: Math.round(x.web) })
  console.log(JSON.stringify({ figure: 'slot-seconds run twice over all shape runs', runs, partitionSeconds: (HEAL_AT_MS - PARTITION_AT_MS) / 1000, serve: rounded(twice.serve), majority: rounded(twice.majority) }))
  assert.equal(failures, [])
})

shapes.run()

const random = suite('partition policy: random partitions and crashes')

const RANDOM_SEEDS = 12

random(`majority: ${RANDOM_SEEDS} seeds × 5, 9 and 20 peers with partitions (any shape) and crashes hold every invariant`, () => {
  const parsed = parseFaultSpec('kill=2,partition=3')
  assert.ok(parsed.ok)
  const failures: string[] = []
  for (const count of [5, 9, 20]) {
    for (let seed = 1; seed <= RANDOM_SEEDS; seed++) {
      const result = new Simulation({
        seed, peers: peers(count), services: services('majority', count), durationMs: 90_000, faults: parsed.spec,
        network: NETWORK_PROFILES.lan, profile: 'lan', safetyEndMs: 60_000,
      }).run()
      if (result.violations.length > 0) failures.push(`${count} peers, seed ${seed}: ${describe(result)}`)
    }
  }
  assert.equal(failures, [])
})

random.run()

const failover = suite('partition policy: failover after a crash')

/** One replica per peer but one, so the crashed peer's replica has exactly one place to go. */
function spreadService(policy: Policy, count: number): ServiceSpec[] {
  const result = validateServices({ services: { db: { command: 'db', replicas: count - 1, maxPerNode: 1, partition: policy, stopGrace: '1s' } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

failover('majority: a crashed peer\'s slot runs elsewhere after the takeover delay; serve keeps its budget', () => {
  const figures: Array<{ peers: number; policy: Policy; failoverMs: number[] }> = []
  for (const count of [5, 20]) {
    for (const policy of ['majority', 'serve'] as const) {
      const measured: number[] = []
      for (let seed = 1; seed <= 4; seed++) {
        // p01 holds a replica unless it is the one peer left free; then nothing fails over.
        const plan: FaultEvent[] = [{ atMs: 10_000, kind: 'kill', peer: 'p01' }, { atMs: 40_000, kind: 'heal' }]
        const result = new Simulation({
          seed, peers: peers(count), services: spreadService(policy, count), durationMs: 60_000, faults: NO_FAULTS, faultPlan: plan,
          network: NETWORK_PROFILES.lan, profile: 'lan', safetyEndMs: 40_000,
        }).run()
        assert.equal(result.violations, [], `${policy}, ${count} peers, seed ${seed}`)
        if (result.metrics.failoversMeasured > 0) measured.push(result.metrics.failoverMsP99)
      }
      assert.ok(measured.length > 0, `${policy}, ${count} peers: no failover measured`)
      const config = defaultConfig(count)
      // Detection (replaceAfter), the takeover delay and the claim's hold, with a second for the auction and the start.
      const bound = policy === 'serve' ? 3_000 : config.replaceAfterMs + takeoverDelayMs(config, count, spreadService(policy, count)[0]!) + claimHoldMs(config) + 1_000
      for (const ms of measured) assert.ok(ms <= bound, `${policy}, ${count} peers: failover ${ms} ms over ${bound} ms`)
      figures.push({ peers: count, policy, failoverMs: measured })
    }
  }
  console.log(JSON.stringify({ figure: 'failover after a crash, ms (p99 of each seed)', figures }))
})

failover('the same seed gives byte-identical results under majority', () => {
  const once = () => JSON.stringify(run(7, 8, 'majority', shapePlan('halves', 8, 7)))
  assert.is(once(), once())
})

failover.run()
