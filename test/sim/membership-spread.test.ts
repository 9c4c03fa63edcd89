// The membership-spread measure (sim/membership-spread.ts): both changes it times reach every live
// peer's member table, its figures are ordered and measured from the change's origin, and a lossy
// network shows up as a longer tail rather than as a change that never arrives.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { membershipSpread, type ChangeSpread } from '../../sim/membership-spread.js'

function assertOrdered(change: ChangeSpread, what: string): void {
  assert.ok(change.originMs !== null, `${what}: has an origin`)
  assert.is(change.reached, change.peers, `${what}: every live peer holds it`)
  const figures = [change.p50Ms, change.p99Ms, change.p999Ms, change.allMs]
  for (const figure of figures) assert.ok(figure !== null && figure >= 0, `${what}: ${JSON.stringify(change)}`)
  for (let i = 1; i < figures.length; i++) assert.ok(figures[i]! >= figures[i - 1]!, `${what}: figures ascend ${JSON.stringify(change)}`)
}

test('a crash and a restart reach every live peer on a LAN, the verdict after the suspicion timeout', () => {
  const result = membershipSpread({ peers: 40, seed: 3, network: 'lan' })
  assert.is(result.peers, 40)
  assertOrdered(result.death, 'death')
  assertOrdered(result.join, 'join')
  // The crash is at 15 s; a verdict needs a missed probe and the suspicion timeout after it.
  assert.ok(result.death.originMs! > 15_000 + 1_000 && result.death.originMs! < 15_000 + 4_000, `verdict at ${result.death.originMs}`)
  assert.is(result.join.originMs, 25_000)
})

test('with most messages lost the changes still arrive, later', () => {
  const clean = membershipSpread({ peers: 40, seed: 4, network: 'lan' })
  const lossy = membershipSpread({ peers: 40, seed: 4, network: 'lan', loss: 0.3 })
  assertOrdered(lossy.death, 'death at 30 % loss')
  assertOrdered(lossy.join, 'join at 30 % loss')
  assert.ok(lossy.join.allMs! > clean.join.allMs!, `repairs take longer than the broadcast: ${lossy.join.allMs} vs ${clean.join.allMs} ms`)
})

test('the same seed gives the same figures', () => {
  assert.equal(membershipSpread({ peers: 30, seed: 9, network: 'wan' }), membershipSpread({ peers: 30, seed: 9, network: 'wan' }))
})

test('fewer than three peers is refused with the count', () => {
  assert.throws(() => membershipSpread({ peers: 2, seed: 1, network: 'lan' }), /at least 3 peers, not 2/)
})

test.run()
