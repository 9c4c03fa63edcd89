// Peer inventories: the cluster written down for `peer plan` and the simulator, turned into PeerViews
// whose tasks hold the resources of the specs they belong to.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  NO_RESOURCES, specHash, validateInventory, type PeerView, type SpecError,
} from '../../../core/index.js'
import { makeSpec } from './fixtures.js'

const web = makeSpec({ name: 'web', image: 'nginx', resources: { cpu: '500m', memory: '256Mi' }, ports: ['8080:80'] })
const agent = makeSpec({ name: 'agent', mode: 'global', command: 'agent', resources: { cpu: '100m', memory: 32, gpu: 1 } })
const SERVICES = [web, agent]

function peers(document: unknown, now = 0): PeerView[] {
  const result = validateInventory(document, SERVICES, now)
  if (!result.ok) throw new Error(`expected a valid inventory, got ${JSON.stringify(result.errors)}`)
  return result.peers
}

function errors(document: unknown): SpecError[] {
  const result = validateInventory(document, SERVICES)
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.peers)}`)
  return result.errors
}

const paths = (document: unknown) => [...new Set(errors(document).map((e) => e.path))].sort()
const capacity = { cpu: 4, memory: '8Gi' }

const Forms = suite('validateInventory forms and defaults')

Forms('a listed peer with only a name and capacity gets every default', () => {
  assert.equal(peers({ peers: [{ name: 'p1', capacity }] }), [{
    id: 'p1',
    state: 'alive',
    capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} },
    allocated: NO_RESOURCES,
    labels: {},
    drivers: ['docker', 'process'],
    tasks: [],
  }])
})

Forms('the map form names each peer by its key, in document order', () => {
  const list = peers({ peers: { 'edge-1': { capacity }, 'edge-0': { capacity } } })
  assert.equal(list.map((p) => p.id), ['edge-1', 'edge-0'])
})

Forms('the list and map forms of one cluster give the same peers', () => {
  const body = { capacity: { cpu: '2500m', memory: 2048, gpu: 2 }, labels: { zone: 'eu' }, drivers: ['process'], state: 'cordoned' }
  assert.equal(peers({ peers: [{ name: 'p1', ...body }] }), peers({ peers: { p1: body } }))
})

Forms('labels, drivers, state and extended capacity are read', () => {
  const [peer] = peers({ peers: [{ name: 'p1', capacity: { cpu: '2500m', memory: 2048, gpu: 2 }, labels: { zone: 'eu', rack: 7, ssd: true }, drivers: ['process'], state: 'draining' }] })
  assert.equal(peer!.capacity, { cpuMilli: 2500, memoryMiB: 2048, extended: { gpu: 2 } })
  assert.equal(peer!.labels, { zone: 'eu', rack: '7', ssd: 'true' })
  assert.equal(peer!.drivers, ['process'])
  assert.is(peer!.state, 'draining')
})

Forms('every peer state is accepted', () => {
  for (const state of ['alive', 'suspect', 'dead', 'draining', 'cordoned']) {
    assert.is(peers({ peers: [{ name: 'p1', capacity, state }] })[0]!.state, state)
  }
})

Forms('a task written as a slot id runs the service\'s current version and holds its resources and ports', () => {
  const [peer] = peers({ peers: [{ name: 'p1', capacity, tasks: ['web/0'] }] }, 1234)
  assert.equal(peer!.tasks, [{
    slot: 'web/0', service: 'web', peer: 'p1', specHash: specHash(web), state: 'running', since: 1234,
    resources: web.resources, ports: web.ports,
  }])
  assert.equal(peer!.allocated, web.resources)
})

Forms('the resources of several tasks add up, extended resources included', () => {
  const [peer] = peers({ peers: [{ name: 'p1', capacity: { cpu: 4, memory: '8Gi', gpu: 2 }, tasks: ['web/0', 'web/1', 'agent@p1'] }] })
  assert.equal(peer!.allocated, { cpuMilli: 1100, memoryMiB: 544, extended: { gpu: 1 } })
})

Forms('a task written as an object may name an older version and a state', () => {
  const [peer] = peers({ peers: [{ name: 'p1', capacity, tasks: [{ slot: 'web/2', specHash: 'old-version', state: 'healthy' }] }] })
  assert.is(peer!.tasks[0]!.specHash, 'old-version')
  assert.is(peer!.tasks[0]!.state, 'healthy')
  assert.equal(peer!.allocated, web.resources)
})

Forms('finished tasks are listed but hold no resources', () => {
  const [peer] = peers({ peers: [{ name: 'p1', capacity, tasks: [{ slot: 'web/0', state: 'exited' }, { slot: 'web/1', state: 'complete' }, { slot: 'web/2', state: 'failed' }] }] })
  assert.is(peer!.tasks.length, 3)
  assert.equal(peer!.allocated, NO_RESOURCES)
})

Forms('a finished and a running task of one slot on one peer are not duplicates', () => {
  const [peer] = peers({ peers: [{ name: 'p1', capacity, tasks: [{ slot: 'web/0', state: 'exited' }, 'web/0'] }] })
  assert.is(peer!.tasks.length, 2)
  assert.equal(peer!.allocated, web.resources)
})

Forms('a global slot on its own peer is accepted', () => {
  assert.is(peers({ peers: [{ name: 'edge-1', capacity, tasks: ['agent@edge-1'] }] })[0]!.tasks[0]!.slot, 'agent@edge-1')
})

Forms('one replica slot on two peers is accepted (a conflict the reconciler resolves)', () => {
  assert.is(peers({ peers: [{ name: 'p1', capacity, tasks: ['web/0'] }, { name: 'p2', capacity, tasks: ['web/0'] }] }).length, 2)
})

Forms('a task of a service the document does not know holds nothing and has an unknown version', () => {
  const [peer] = peers({ peers: [{ name: 'p1', capacity, tasks: ['legacy/0'] }] })
  assert.is(peer!.tasks[0]!.specHash, 'unknown')
  assert.equal(peer!.tasks[0]!.resources, NO_RESOURCES)
  assert.equal(peer!.allocated, NO_RESOURCES)
})

Forms('an empty peer list is a valid, empty cluster', () => {
  assert.equal(peers({ peers: [] }), [])
})

Forms.run()

const Errors = suite('validateInventory errors')

const errorCases: Array<{ name: string; input: unknown; paths: string[]; message?: RegExp }> = [
  { name: 'a document without peers', input: { nodes: [] }, paths: ['peers'] },
  { name: 'a null document', input: null, paths: ['peers'] },
  { name: 'peers given as a string', input: { peers: 'p1,p2' }, paths: ['peers'] },
  { name: 'a peer that is not a map', input: { peers: ['p1'] }, paths: ['peers[0]'] },
  { name: 'a peer without a name', input: { peers: [{ capacity }] }, paths: ['peers[0].name'] },
  { name: 'a peer name with a slash', input: { peers: [{ name: 'rack/1', capacity }] }, paths: ['peers[0].name'] },
  { name: 'a peer name with an @', input: { peers: { 'p@1': { capacity } } }, paths: ['peers.p@1.name'] },
  { name: 'duplicate peer names name the second', input: { peers: [{ name: 'p1', capacity }, { name: 'p2', capacity }, { name: 'p1', capacity }] }, paths: ['peers[2].name'], message: /listed twice/ },
  { name: 'an unknown peer field', input: { peers: [{ name: 'p1', capacity, cpu: 4 }] }, paths: ['peers[0].cpu'], message: /unknown field/ },
  { name: 'a missing capacity', input: { peers: [{ name: 'p1' }] }, paths: ['peers[0].capacity'] },
  { name: 'a capacity without cpu', input: { peers: [{ name: 'p1', capacity: { memory: '8Gi' } }] }, paths: ['peers[0].capacity.cpu'], message: /needs cpu/ },
  { name: 'a capacity without memory', input: { peers: [{ name: 'p1', capacity: { cpu: 4 } }] }, paths: ['peers[0].capacity.memory'], message: /needs memory/ },
  { name: 'an empty capacity', input: { peers: { p1: { capacity: {} } } }, paths: ['peers.p1.capacity.cpu', 'peers.p1.capacity.memory'] },
  { name: 'cpu capacity written as bare millicores', input: { peers: [{ name: 'p1', capacity: { cpu: 8000, memory: 1024 } }] }, paths: ['peers[0].capacity.cpu'], message: /"8000m"/ },
  { name: 'an unreadable memory capacity', input: { peers: [{ name: 'p1', capacity: { cpu: 4, memory: '8GB' } }] }, paths: ['peers[0].capacity.memory'] },
  { name: 'a fractional extended capacity', input: { peers: [{ name: 'p1', capacity: { cpu: 4, memory: 1024, gpu: 0.5 } }] }, paths: ['peers[0].capacity.gpu'] },
  { name: 'an unknown peer state', input: { peers: [{ name: 'p1', capacity, state: 'zombie' }] }, paths: ['peers[0].state'], message: /alive, suspect, dead, draining, cordoned/ },
  { name: 'an unknown driver', input: { peers: [{ name: 'p1', capacity, drivers: ['docker', 'podman'] }] }, paths: ['peers[0].drivers'] },
  { name: 'labels given as a list', input: { peers: [{ name: 'p1', capacity, labels: ['zone=eu'] }] }, paths: ['peers[0].labels'] },
  { name: 'a label value that is a map', input: { peers: [{ name: 'p1', capacity, labels: { zone: { name: 'eu' } } }] }, paths: ['peers[0].labels.zone'] },
  { name: 'tasks given as a string', input: { peers: [{ name: 'p1', capacity, tasks: 'web/0' }] }, paths: ['peers[0].tasks'] },
  { name: 'a malformed slot id', input: { peers: [{ name: 'p1', capacity, tasks: ['web/0', 'web'] }] }, paths: ['peers[0].tasks[1]'], message: /slot id/ },
  { name: 'a task object without a slot', input: { peers: [{ name: 'p1', capacity, tasks: [{ state: 'running' }] }] }, paths: ['peers[0].tasks[0]'] },
  { name: 'a global slot listed on another peer', input: { peers: [{ name: 'p1', capacity, tasks: ['agent@p2'] }] }, paths: ['peers[0].tasks[0]'], message: /belongs to peer p2, not p1/ },
  { name: 'one slot twice on one peer names the second', input: { peers: [{ name: 'p1', capacity, tasks: ['web/0', 'web/1', 'web/0'] }] }, paths: ['peers[0].tasks[2]'], message: /listed twice/ },
  { name: 'an unknown task state', input: { peers: [{ name: 'p1', capacity, tasks: [{ slot: 'web/0', state: 'sleeping' }] }] }, paths: ['peers[0].tasks[0].state'] },
]
for (const { name, input, paths: expected, message } of errorCases) {
  Errors(`${name} is reported at ${expected.join(', ')}`, () => {
    assert.equal(paths(input), [...expected].sort())
    if (message) {
      const found = errors(input).filter((e) => expected.includes(e.path))
      assert.ok(found.some((e) => message.test(e.message)), `messages: ${found.map((e) => e.message).join(' | ')}`)
    }
  })
}

Errors('problems on several peers are all reported at once', () => {
  assert.equal(paths({ peers: [
    { name: 'p1', capacity: { cpu: 4 }, state: 'up' },
    { name: 'p2', capacity, tasks: ['agent@p1'] },
  ] }), ['peers[0].capacity.memory', 'peers[0].state', 'peers[1].tasks[0]'])
})

Errors.run()
