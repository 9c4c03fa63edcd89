// A peer that comes back: the simulator replays the faults that real agents in network namespaces
// showed (issue 16) and counts what the restart cost — slots the restarted peer started although
// another peer ran them, and replacements stopped in favour of its old copies. Each scenario keeps
// everything else calm (no loss, no other fault), so every count is the restart's doing.
//
//   power cut, restart after failover .... the survivors replaced its slots; it must not run them again
//   power cut, restart unheard for 2.5 s . it must not take the slots of peers it has not heard from
//   agent crash, restart 8 s later ....... its orphans still run; the cluster's replacements must stay

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, validateServices, type PeerView, type ServiceSpec } from '../../core/index.js'
import type { FaultEvent } from '../../sim/faults.js'
import { NETWORK_PROFILES } from '../../sim/network.js'
import { Simulation, type SimResult } from '../../sim/runner.js'
import { NO_FAULTS } from '../../sim/faults.js'

const PEERS = 5
const REPLICAS = 10
const DURATION_MS = 40_000
/** After the apply (at 3 s) every slot runs by then. */
const KILL_AT_MS = 8_000

function web(): ServiceSpec[] {
  const result = validateServices({ services: { web: { command: 'serve', replicas: REPLICAS, resources: { cpu: '100m', memory: 64 } } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
}

function peers(): PeerView[] {
  return Array.from({ length: PEERS }, (_, i) => ({
    id: peerId(`p${i}`), state: 'alive', capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
    allocated: { cpuMilli: 0, memoryMiB: 0, extended: {} }, labels: {}, drivers: ['docker', 'process'], tasks: [],
  }))
}

function run(seed: number, plan: FaultEvent[]): SimResult {
  return new Simulation({
    seed, peers: peers(), services: web(), durationMs: DURATION_MS, faults: NO_FAULTS, faultPlan: plan,
    network: NETWORK_PROFILES.lan, profile: 'lan', safetyEndMs: 25_000,
  }).run()
}

const powerCutThenRestart = (peer: string, restartAtMs: number): FaultEvent[] => [
  { atMs: KILL_AT_MS, kind: 'kill', peer, restartAtMs },
  { atMs: 25_000, kind: 'heal' },
]

/** The restarted host hears nothing for 2.5 s (its old connections are dead and not yet noticed). */
const powerCutThenRestartUnheard = (peer: string, restartAtMs: number): FaultEvent[] => [
  { atMs: KILL_AT_MS, kind: 'kill', peer, restartAtMs },
  { atMs: restartAtMs, kind: 'partition', groups: [[peer], peers().map((p) => p.id).filter((id) => id !== peer)], healAtMs: restartAtMs + 2_500 },
  { atMs: 25_000, kind: 'heal' },
]

const agentCrashThenRestart = (peer: string, restartAtMs: number): FaultEvent[] => [
  { atMs: KILL_AT_MS, kind: 'kill', peer, restartAtMs, keepTasks: true },
  { atMs: 25_000, kind: 'heal' },
]

const SEEDS = [1, 2, 3, 4, 5, 6]
const VICTIMS = ['p1', 'p2', 'p3']

const scenarios: Array<{ name: string; plan: (peer: string) => FaultEvent[] }> = [
  { name: 'a power-cut peer restarted after failover starts none of the replaced slots again', plan: (peer) => powerCutThenRestart(peer, KILL_AT_MS + 4_000) },
  { name: 'a power-cut peer that hears nobody for 2.5 s after its restart takes no slot of the peers it has not heard from', plan: (peer) => powerCutThenRestartUnheard(peer, KILL_AT_MS + 4_000) },
  { name: 'after an agent-only crash and a restart 8 s later, the replacements stay and the old copies stop', plan: (peer) => agentCrashThenRestart(peer, KILL_AT_MS + 8_000) },
]

const restart = suite('sim: a peer that restarts')

for (const scenario of scenarios) {
  restart(scenario.name, () => {
    const costs: string[] = []
    let startedTwice = 0
    let movedBack = 0
    for (const seed of SEEDS) {
      for (const victim of VICTIMS) {
        const result = run(seed, scenario.plan(victim))
        startedTwice += result.metrics.restartStartedTwice
        movedBack += result.metrics.restartMovedBack
        const problems = result.violations.map((v) => `${v.invariant}: ${v.detail}`)
        if (result.metrics.restartStartedTwice > 0 || result.metrics.restartMovedBack > 0 || problems.length > 0) {
          costs.push(`seed ${seed}, ${victim}: ${result.metrics.restartStartedTwice} started twice, ${result.metrics.restartMovedBack} moved back${problems.length > 0 ? `; ${problems.join('; ')}` : ''}`)
        }
      }
    }
    if (process.env.PEER_SIM_RESTART_REPORT !== undefined) console.log(`    ${scenario.name}: ${startedTwice} started twice, ${movedBack} moved back over ${SEEDS.length * VICTIMS.length} runs`)
    assert.equal(costs, [])
  })
}

restart('the victims held slots to lose (the scenarios test something)', () => {
  for (const victim of VICTIMS) {
    const result = run(1, powerCutThenRestart(victim, KILL_AT_MS + 4_000))
    assert.ok(result.metrics.failoversMeasured > 0, `${victim} ran something when it was cut`)
  }
})

restart('the same seed gives byte-identical results', () => {
  const once = () => JSON.stringify(run(3, agentCrashThenRestart('p2', KILL_AT_MS + 8_000)).metrics)
  assert.is(once(), once())
})

restart.run()
