// Feasibility: may this peer take one more task of this service? Every "no" carries the reason code
// and detail a user reads in `peer why`.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  REJECTION_TEXT, countRejections, feasible, peerId, placementRequest, specHash, type PeerView, type RejectionReason,
} from '../../../core/index.js'
import { makePeer, makeSpec, makeTask, resources } from './fixtures.js'

const other = makeSpec({ name: 'other', command: 'x', ports: ['8080:80'] })
const otherUdp = makeSpec({ name: 'dns', command: 'x', ports: ['8080:8080/udp'] })

type Expected = 'ok' | { reason: RejectionReason; detail: string }

function check(peer: PeerView, spec: Record<string, unknown>, extraOnPeer = 0): Expected {
  const result = feasible(peer, placementRequest(makeSpec(spec)), extraOnPeer)
  if (result.ok) return 'ok'
  assert.is(result.rejection.peer, peer.id, 'a rejection names the peer')
  return { reason: result.rejection.reason, detail: result.rejection.detail }
}

const webSpec = makeSpec({})
const web = (index: number, peer = 'p1', state: 'running' | 'pending' | 'starting' | 'unhealthy' | 'exited' | 'failed' | 'complete' = 'running') =>
  makeTask(webSpec, index, peer, { state })

const Table = suite('feasible')

const cases: Array<{ name: string; peer: PeerView; spec?: Record<string, unknown>; extra?: number; expected: Expected }> = [
  { name: 'an alive peer with room and the driver accepts', peer: makePeer('p1'), expected: 'ok' },
  { name: 'a suspect peer is rejected as not-alive with detail suspect', peer: makePeer('p1', { state: 'suspect' }), expected: { reason: 'not-alive', detail: 'suspect' } },
  { name: 'a dead peer is rejected as not-alive with detail dead', peer: makePeer('p1', { state: 'dead' }), expected: { reason: 'not-alive', detail: 'dead' } },
  { name: 'a draining peer is rejected as draining', peer: makePeer('p1', { state: 'draining' }), expected: { reason: 'draining', detail: '' } },
  { name: 'a cordoned peer is rejected as cordoned', peer: makePeer('p1', { state: 'cordoned' }), expected: { reason: 'cordoned', detail: '' } },
  { name: 'a peer without docker is rejected for a docker service with detail docker', peer: makePeer('p1', { drivers: ['process'] }), spec: { image: 'nginx' }, expected: { reason: 'driver', detail: 'docker' } },
  { name: 'a peer without the process driver is rejected for a process service', peer: makePeer('p1', { drivers: ['docker'] }), expected: { reason: 'driver', detail: 'process' } },
  { name: 'a peer with the wrong label value is rejected with the constraint as detail', peer: makePeer('p1', { labels: { zone: 'ap' } }), spec: { constraints: ['zone == eu'] }, expected: { reason: 'label', detail: 'zone == eu' } },
  { name: 'a peer without the label is rejected with reason label', peer: makePeer('p1'), spec: { constraints: ['gpu exists'] }, expected: { reason: 'label', detail: 'gpu exists' } },
  { name: 'the detail is the formatted constraint, not the text as written', peer: makePeer('p1'), spec: { constraints: ['zone in(eu,us)'] }, expected: { reason: 'label', detail: 'zone in (eu, us)' } },
  { name: 'the first failing constraint is the one named', peer: makePeer('p1', { labels: { arch: 'amd64' } }), spec: { constraints: ['arch != arm64', 'zone == eu', 'rack exists'] }, expected: { reason: 'label', detail: 'zone == eu' } },
  { name: 'a peer without the label passes "!=" and "notin"', peer: makePeer('p1'), spec: { constraints: ['arch != arm64', 'zone notin (ap)'] }, expected: 'ok' },
  { name: 'a peer matching every constraint accepts', peer: makePeer('p1', { labels: { zone: 'eu', host: 'edge-3' } }), spec: { constraints: ['zone == eu', 'host matches ^edge-'] }, expected: 'ok' },
  { name: 'a peer at maxPerNode is rejected with the limit as detail', peer: makePeer('p1', { tasks: [web(0), web(1)] }), spec: { maxPerNode: 2 }, expected: { reason: 'max-per-node', detail: '2' } },
  { name: 'a peer below maxPerNode accepts', peer: makePeer('p1', { tasks: [web(0)] }), spec: { maxPerNode: 2 }, expected: 'ok' },
  { name: 'maxPerNode 0 means no limit', peer: makePeer('p1', { tasks: [web(0), web(1), web(2)] }), spec: { maxPerNode: 0 }, expected: 'ok' },
  { name: 'pending, starting and unhealthy tasks count toward maxPerNode', peer: makePeer('p1', { tasks: [web(0, 'p1', 'pending'), web(1, 'p1', 'starting'), web(2, 'p1', 'unhealthy')] }), spec: { maxPerNode: 3 }, expected: { reason: 'max-per-node', detail: '3' } },
  { name: 'exited, failed and complete tasks do not count toward maxPerNode', peer: makePeer('p1', { tasks: [web(0, 'p1', 'exited'), web(1, 'p1', 'failed'), web(2, 'p1', 'complete')] }), spec: { maxPerNode: 1 }, expected: 'ok' },
  { name: 'tasks of another service do not count toward maxPerNode', peer: makePeer('p1', { tasks: [makeTask(makeSpec({ name: 'api' }), 0, 'p1')] }), spec: { maxPerNode: 1 }, expected: 'ok' },
  { name: 'a host port held by another service is rejected with detail 8080/tcp', peer: makePeer('p1', { tasks: [makeTask(other, 0, 'p1')] }), spec: { ports: ['8080:80'] }, expected: { reason: 'port', detail: '8080/tcp' } },
  { name: 'the port check names the first taken port', peer: makePeer('p1', { tasks: [makeTask(other, 0, 'p1')] }), spec: { ports: ['9000:90', '8080:80'] }, expected: { reason: 'port', detail: '8080/tcp' } },
  { name: 'the same port number over udp does not conflict with tcp', peer: makePeer('p1', { tasks: [makeTask(otherUdp, 0, 'p1')] }), spec: { ports: ['8080:80'] }, expected: 'ok' },
  { name: 'a port held by an exited task is free again', peer: makePeer('p1', { tasks: [makeTask(other, 0, 'p1', { state: 'exited' })] }), spec: { ports: ['8080:80'] }, expected: 'ok' },
  { name: 'a port held by a failed task is free again', peer: makePeer('p1', { tasks: [makeTask(other, 0, 'p1', { state: 'failed' })] }), spec: { ports: ['8080:80'] }, expected: 'ok' },
  { name: 'a port held by a starting task is taken', peer: makePeer('p1', { tasks: [makeTask(other, 0, 'p1', { state: 'starting' })] }), spec: { ports: ['8080:80'] }, expected: { reason: 'port', detail: '8080/tcp' } },
  { name: 'a peer without enough cpu is rejected as cpu', peer: makePeer('p1', { capacity: resources(1000, 8192), allocated: resources(950, 0) }), spec: { resources: { cpu: '100m' } }, expected: { reason: 'cpu', detail: '' } },
  { name: 'a peer without enough memory is rejected as memory', peer: makePeer('p1', { capacity: resources(4000, 128) }), spec: { resources: { memory: '256Mi' } }, expected: { reason: 'memory', detail: '' } },
  { name: 'cpu is named before memory when both are short', peer: makePeer('p1', { capacity: resources(50, 32) }), expected: { reason: 'cpu', detail: '' } },
  { name: 'an exact fit is accepted', peer: makePeer('p1', { capacity: resources(1000, 1024), allocated: resources(900, 960) }), spec: { resources: { cpu: '100m', memory: 64 } }, expected: 'ok' },
  { name: 'a peer without gpus is rejected as extended-resource with detail gpu', peer: makePeer('p1'), spec: { resources: { gpu: 1 } }, expected: { reason: 'extended-resource', detail: 'gpu' } },
  { name: 'a peer whose gpus are all allocated is rejected with detail gpu', peer: makePeer('p1', { capacity: resources(4000, 8192, { gpu: 1 }), allocated: resources(0, 0, { gpu: 1 }) }), spec: { resources: { gpu: 1 } }, expected: { reason: 'extended-resource', detail: 'gpu' } },
  { name: 'the alphabetically first short extended resource is named', peer: makePeer('p1'), spec: { resources: { gpu: 1, fpga: 1 } }, expected: { reason: 'extended-resource', detail: 'fpga' } },
  { name: 'a peer with a free gpu accepts', peer: makePeer('p1', { capacity: resources(4000, 8192, { gpu: 2 }), allocated: resources(0, 0, { gpu: 1 }) }), spec: { resources: { gpu: 1 } }, expected: 'ok' },
  // The checks run in a fixed order and stop at the first failure.
  { name: 'state is checked before the driver', peer: makePeer('p1', { state: 'dead', drivers: [] }), expected: { reason: 'not-alive', detail: 'dead' } },
  { name: 'the driver is checked before labels', peer: makePeer('p1', { drivers: ['docker'] }), spec: { constraints: ['zone == eu'] }, expected: { reason: 'driver', detail: 'process' } },
  { name: 'labels are checked before maxPerNode', peer: makePeer('p1', { tasks: [web(0)] }), spec: { constraints: ['zone == eu'], maxPerNode: 1 }, expected: { reason: 'label', detail: 'zone == eu' } },
  { name: 'maxPerNode is checked before resources', peer: makePeer('p1', { capacity: resources(0, 0), tasks: [web(0)] }), spec: { maxPerNode: 1 }, expected: { reason: 'max-per-node', detail: '1' } },
  { name: 'ports are checked before resources', peer: makePeer('p1', { capacity: resources(0, 0), tasks: [makeTask(other, 0, 'p1')] }), spec: { ports: ['8080:80'] }, expected: { reason: 'port', detail: '8080/tcp' } },
  // extraOnPeer: tasks already given to the peer in this planning pass.
  { name: 'resources count the tasks already given in this pass', peer: makePeer('p1', { capacity: resources(300, 8192) }), spec: { resources: { cpu: '100m' } }, extra: 3, expected: { reason: 'cpu', detail: '' } },
  { name: 'the last task that fits after those given in this pass is accepted', peer: makePeer('p1', { capacity: resources(300, 8192) }), spec: { resources: { cpu: '100m' } }, extra: 2, expected: 'ok' },
  { name: 'maxPerNode counts the tasks already given in this pass', peer: makePeer('p1', { tasks: [web(0)] }), spec: { maxPerNode: 2 }, extra: 1, expected: { reason: 'max-per-node', detail: '2' } },
  { name: 'extended resources count the tasks already given in this pass', peer: makePeer('p1', { capacity: resources(4000, 8192, { gpu: 2 }) }), spec: { resources: { gpu: 1 } }, extra: 2, expected: { reason: 'extended-resource', detail: 'gpu' } },
]
for (const { name, peer, spec, extra, expected } of cases) {
  Table(name, () => {
    assert.equal(check(peer, spec ?? {}, extra ?? 0), expected)
  })
}

Table('every reason code has a sentence for users', () => {
  const reasons: RejectionReason[] = ['not-alive', 'draining', 'cordoned', 'driver', 'label', 'max-per-node', 'port', 'cpu', 'memory', 'extended-resource']
  for (const reason of reasons) assert.ok((REJECTION_TEXT[reason] ?? '').length > 0, reason)
})

Table.run()

const Request = suite('placementRequest')

const perNode: Array<{ name: string; spec: Record<string, unknown>; expected: number }> = [
  { name: 'a service with host ports runs at most once per peer even with maxPerNode 0', spec: { ports: ['8080:80'] }, expected: 1 },
  { name: 'a service with host ports runs at most once per peer even with maxPerNode 3', spec: { ports: ['8080:80'], maxPerNode: 3 }, expected: 1 },
  { name: 'a service with host ports and maxPerNode 1 keeps 1', spec: { ports: ['8080:80'], maxPerNode: 1 }, expected: 1 },
  { name: 'a service without ports keeps maxPerNode 0 (no limit)', spec: {}, expected: 0 },
  { name: 'a service without ports keeps maxPerNode 3', spec: { maxPerNode: 3 }, expected: 3 },
]
for (const { name, spec, expected } of perNode) {
  Request(name, () => {
    assert.is(placementRequest(makeSpec(spec)).maxPerNode, expected)
  })
}

Request('a second replica of a port-binding service on one peer is rejected as max-per-node', () => {
  const spec = makeSpec({ ports: ['8080:80'] })
  const peer = makePeer('p1', { tasks: [makeTask(spec, 0, 'p1')] })
  const result = feasible(peer, placementRequest(spec))
  assert.equal(result.ok ? 'ok' : result.rejection.reason, 'max-per-node')
})

Request('the request carries the spec\'s hash, driver, resources, ports, strategy and spreadBy', () => {
  const spec = makeSpec({ image: 'nginx', ports: ['80'], strategy: 'binpack', spreadBy: 'zone', resources: { cpu: 1, memory: 128 } })
  const request = placementRequest(spec)
  assert.is(request.service, 'web')
  assert.is(request.specHash, specHash(spec))
  assert.is(request.driver, 'docker')
  assert.equal(request.resources, { cpuMilli: 1000, memoryMiB: 128, extended: {} })
  assert.equal(request.ports, spec.ports)
  assert.is(request.strategy, 'binpack')
  assert.is(request.spreadBy, 'zone')
})

Request('constraints are compiled once, in spec order', () => {
  const request = placementRequest(makeSpec({ constraints: ['zone == eu', 'gpu exists'] }))
  assert.equal(request.constraints.map((c) => c.constraint.label), ['zone', 'gpu'])
  assert.is(request.constraints[0]!.test({ zone: 'eu' }), true)
  assert.is(request.constraints[1]!.test({ zone: 'eu' }), false)
})

Request('the same spec gives an equal request every time', () => {
  const spec = makeSpec({ replicas: 2 })
  assert.equal(placementRequest(spec), placementRequest(spec))
  assert.equal(placementRequest(makeSpec({ replicas: 2 })).specHash, placementRequest(spec).specHash)
})

Request.run()

// ---------------------------------------------------------------------------------------------------

const Counts = suite('rejection counts')

const rejectionCounts: Array<{ name: string; input: Array<[RejectionReason, string]>; expected: Array<[RejectionReason, string, number]> }> = [
  { name: 'no rejections give no counts', input: [], expected: [] },
  { name: 'equal reasons and details are counted together', input: [['cpu', ''], ['cpu', '']], expected: [['cpu', '', 2]] },
  { name: 'the same reason with different details is counted apart', input: [['label', 'zone == eu'], ['label', 'arch == x'], ['label', 'zone == eu']], expected: [['label', 'zone == eu', 2], ['label', 'arch == x', 1]] },
  { name: 'ties in count are ordered by reason, then detail', input: [['memory', ''], ['cpu', ''], ['port', '80/tcp'], ['port', '443/tcp']], expected: [['cpu', '', 1], ['memory', '', 1], ['port', '443/tcp', 1], ['port', '80/tcp', 1]] },
]
for (const { name, input, expected } of rejectionCounts) {
  Counts(`countRejections: ${name}`, () => {
    const rejections = input.map(([reason, detail], i) => ({ peer: peerId(`p${i}`), reason, detail }))
    assert.equal(countRejections(rejections).map((c) => [c.reason, c.detail, c.peers]), expected)
    assert.equal(countRejections([...rejections].reverse()), countRejections(rejections))
  })
}

Counts.run()
