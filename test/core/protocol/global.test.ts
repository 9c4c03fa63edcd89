// Global services: one task per eligible peer, placed by each peer for itself — a new peer gets one,
// a draining or no-longer-matching peer's is stopped.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { Cluster, describePlacement, services, type ClusterOptions } from './harness.js'

function settled(peers: ClusterOptions['peers']): Cluster {
  const cluster = new Cluster({ peers })
  cluster.startAll()
  cluster.runUntil(3_000)
  assert.ok(cluster.converged())
  return cluster
}

const agent = services({ agent: { command: 'agent', mode: 'global' } })

// ---------------------------------------------------------------------------------------------------

const Global = suite('global services')

Global('a global service runs one task on every peer, each on its own slot, with no bidding', () => {
  const cluster = settled(4)
  cluster.apply(agent)
  cluster.runFor(1_000)
  assert.equal(describePlacement(cluster.placement()), ['agent@p0@p0', 'agent@p1@p1', 'agent@p2@p2', 'agent@p3@p3'])
  assert.equal(cluster.messages('bid'), [])
  assert.is(cluster.outputs('start-task').length, 4)
})

Global('a constrained global service runs only on the matching peers', () => {
  const cluster = settled([{ id: 'p0', labels: { gpu: 'yes' } }, { id: 'p1' }, { id: 'p2', labels: { gpu: 'yes' } }])
  cluster.apply(services({ driver: { command: 'gpu-driver', mode: 'global', constraints: ['gpu == yes'] } }))
  cluster.runFor(1_000)
  assert.equal(describePlacement(cluster.placement()), ['driver@p0@p0', 'driver@p2@p2'])
})

Global('a peer that joins later gets its own task, and nobody else’s changes', () => {
  const cluster = settled(3)
  cluster.apply(agent)
  cluster.runFor(1_000)
  cluster.add({ id: 'p9' })
  const joinedAt = cluster.now
  cluster.start('p9')
  cluster.runFor(1_000)
  assert.equal(cluster.outputs('start-task', { since: joinedAt }).map((s) => `${s.peer} ${s.output.task.slot}`), ['p9 agent@p9'])
  assert.equal(cluster.outputs('stop-task'), [])
})

Global('a draining peer’s task is stopped and the others keep theirs', () => {
  const cluster = settled(4)
  cluster.apply(agent)
  cluster.runFor(1_000)
  const drainAt = cluster.now
  cluster.apply(agent, { settings: { p1: { drain: true } } })
  cluster.runFor(1_000)
  assert.equal(cluster.outputs('stop-task', { since: drainAt }).map((s) => `${s.peer} ${s.output.slot} ${s.output.reason}`), ['p1 agent@p1 ineligible'])
  assert.equal(cluster.outputs('start-task', { since: drainAt }), [])
  assert.equal(describePlacement(cluster.placement()), ['agent@p0@p0', 'agent@p2@p2', 'agent@p3@p3'])
})

Global('a cordoned peer starts no global task, but keeps one it already runs', () => {
  const cluster = settled(3)
  cluster.apply(agent, { settings: { p2: { cordon: true } } })
  cluster.runFor(1_000)
  assert.equal(describePlacement(cluster.placement()), ['agent@p0@p0', 'agent@p1@p1'])
  cluster.apply(agent, { settings: { p0: { cordon: true } } })
  cluster.runFor(1_000)
  assert.equal(describePlacement(cluster.placement()), ['agent@p0@p0', 'agent@p1@p1', 'agent@p2@p2'])
})

Global('an operator label that stops matching the constraint stops the peer’s task', () => {
  const cluster = settled([{ id: 'p0', labels: { tier: 'edge' } }, { id: 'p1', labels: { tier: 'edge' } }])
  const edge = services({ proxy: { command: 'proxy', mode: 'global', constraints: ['tier == edge'] } })
  cluster.apply(edge)
  cluster.runFor(1_000)
  cluster.apply(edge, { settings: { p1: { labels: { tier: 'core' } } } })
  cluster.runFor(1_000)
  assert.equal(describePlacement(cluster.placement()), ['proxy@p0@p0'])
})

Global('a dead peer’s global task is not placed anywhere else', () => {
  const cluster = settled(3)
  cluster.apply(agent)
  cluster.runFor(1_000)
  const killedAt = cluster.now
  cluster.kill('p2')
  cluster.runFor(6_000)
  assert.equal(cluster.outputs('start-task', { since: killedAt }), [])
  assert.equal(describePlacement(cluster.placement()), ['agent@p0@p0', 'agent@p1@p1'])
})

Global('a stop-first update of a global service replaces each peer’s task on that peer', () => {
  const cluster = settled(3)
  cluster.apply(services({ agent: { image: 'agent:1', mode: 'global' } }))
  cluster.runFor(1_000)
  cluster.apply(services({ agent: { image: 'agent:2', mode: 'global' } }))
  cluster.runFor(10_000)
  assert.equal(cluster.tasks('agent').map((t) => `${t.task.slot} ${t.peer} ${t.spec.image}`).sort(),
    ['agent@p0 p0 agent:2', 'agent@p1 p1 agent:2', 'agent@p2 p2 agent:2'])
})

// Found while writing these tests: a start-first update of a global service places the new version
// on the same peer (the slot belongs to it), but placeGlobal returns early because the peer already
// holds the slot (its old task), so the update never starts. Input: 3 peers,
// { agent: { image: agent:1, mode: global, update: { order: start-first } } }, then image agent:2:
// after 10 s every peer still runs agent:1 and nothing was started or stopped.
Global('a start-first update of a global service (no host ports) completes', () => {
  const cluster = settled(3)
  cluster.apply(services({ agent: { image: 'agent:1', mode: 'global', update: { order: 'start-first' } } }))
  cluster.runFor(1_000)
  cluster.apply(services({ agent: { image: 'agent:2', mode: 'global', update: { order: 'start-first' } } }))
  cluster.runFor(10_000)
  assert.equal(cluster.tasks('agent').map((t) => `${t.task.slot} ${t.peer} ${t.spec.image}`).sort(),
    ['agent@p0 p0 agent:2', 'agent@p1 p1 agent:2', 'agent@p2 p2 agent:2'])
})

Global.run()
