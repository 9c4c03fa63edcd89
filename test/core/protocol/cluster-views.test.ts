// ClusterState's peer views: views of the same advert object are shared between cluster states (the
// simulator's peers all hold the same adverts), and a shared view must read exactly like one built
// from that state's own advert, status and settings.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { ClusterState, NO_RESOURCES, type Advert, type MemberStatus, type PeerId, type PeerSettings, type PeerView } from '../../../core/index.js'
import { DEFAULT_CAPACITY, p } from './harness.js'

const PEERS = ['a', 'b', 'c'].map(p)
const STATUSES: MemberStatus[] = ['alive', 'suspect', 'dead', 'left']

function advert(peer: PeerId, version: number, diskFull: boolean): Advert {
  return {
    peer, incarnation: 1, version, capacity: DEFAULT_CAPACITY, allocated: NO_RESOURCES, labels: { zone: 'z1' }, drivers: ['process'], tasks: [],
    ...(diskFull ? { diskFull: true as const } : {}),
  }
}

/** The view a state must give: built from scratch by the rules ClusterState documents. */
function expected(advert: Advert, status: MemberStatus, settings: PeerSettings | undefined): PeerView {
  const state = status === 'dead' || status === 'left' ? 'dead' : status === 'suspect' ? 'suspect'
    : settings?.drain ? 'draining' : settings?.cordon || advert.diskFull === true ? 'cordoned' : 'alive'
  const labels = settings && Object.keys(settings.labels).length > 0 ? { ...advert.labels, ...settings.labels } : advert.labels
  return { id: advert.peer, state, capacity: advert.capacity, allocated: advert.allocated, labels, drivers: advert.drivers, tasks: advert.tasks }
}

const views = suite('cluster state: peer views')

views('two states holding the same advert in the same state share one view; a different status gets its own', () => {
  const one = new ClusterState()
  const two = new ClusterState()
  const shared = advert(PEERS[0]!, 1, false)
  one.putAdvert(shared)
  two.putAdvert(shared)
  assert.is(one.get(PEERS[0]!), two.get(PEERS[0]!))
  two.setStatus(PEERS[0]!, 'suspect')
  assert.is(two.get(PEERS[0]!)!.state, 'suspect')
  assert.is(one.get(PEERS[0]!)!.state, 'alive')
})

views('views with operator labels are each state\'s own', () => {
  const one = new ClusterState()
  const shared = advert(PEERS[0]!, 1, false)
  one.putAdvert(shared)
  one.setSettings(new Map([[PEERS[0]!, { drain: false, cordon: false, labels: { zone: 'z2' } }]]))
  assert.equal(one.get(PEERS[0]!)!.labels, { zone: 'z2' })
  assert.equal(shared.labels, { zone: 'z1' }, 'the advert is untouched')
})

views('whatever adverts, statuses and settings several states are given, each view reads as one built from scratch', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('advert' as const), state: fc.nat(2), peer: fc.nat(2), version: fc.integer({ min: 1, max: 4 }), diskFull: fc.boolean() }),
    fc.record({ kind: fc.constant('status' as const), state: fc.nat(2), peer: fc.nat(2), status: fc.constantFrom(...STATUSES) }),
    fc.record({
      kind: fc.constant('settings' as const), state: fc.nat(2), peer: fc.nat(2),
      settings: fc.option(fc.record({ drain: fc.boolean(), cordon: fc.boolean(), labels: fc.constantFrom<Record<string, string>>({}, { zone: 'z9' }, { rack: 'r1' }) }), { nil: undefined }),
    }),
  )
  fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
    // Adverts are made once per (peer, version, diskFull) and handed to every state, as gossip does.
    const made = new Map<string, Advert>()
    const shared = (peer: PeerId, version: number, diskFull: boolean) => {
      const key = `${peer}#${version}#${diskFull}`
      let found = made.get(key)
      if (found === undefined) made.set(key, (found = advert(peer, version, diskFull)))
      return found
    }
    const states = [0, 1, 2].map(() => ({ cluster: new ClusterState(), adverts: new Map<PeerId, Advert>(), statuses: new Map<PeerId, MemberStatus>(), settings: new Map<PeerId, PeerSettings>() }))
    for (const o of ops) {
      const s = states[o.state]!
      const peer = PEERS[o.peer]!
      if (o.kind === 'advert') {
        const a = shared(peer, o.version, o.diskFull)
        if (s.cluster.putAdvert(a) !== null) s.adverts.set(peer, a)
      } else if (o.kind === 'status') {
        s.cluster.setStatus(peer, o.status)
        s.statuses.set(peer, o.status)
      } else {
        if (o.settings === undefined) s.settings.delete(peer)
        else s.settings.set(peer, o.settings)
        s.cluster.setSettings(new Map(s.settings))
      }
      for (const t of states) {
        for (const id of PEERS) {
          const a = t.adverts.get(id)
          const got = t.cluster.get(id)
          if (a === undefined) {
            if (got !== undefined) return false
            continue
          }
          assert.equal(got, expected(a, t.statuses.get(id) ?? 'alive', t.settings.get(id)))
        }
      }
    }
    return true
  }), { numRuns: 300 })
})

views.run()
