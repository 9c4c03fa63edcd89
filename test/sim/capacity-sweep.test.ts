// `--sweep`: parsing its sizes and losses, and the answer on fleets small enough to count by hand.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { validateServices } from '../../core/index.js'
import { parseLosses, parseSweep, sweep } from '../../sim/sweep.js'

const parse = suite('parseSweep and parseLosses')

parse('sizes come back sorted and without repeats', () => {
  assert.equal(parseSweep('peers=800,200,400,200', 100_000), { ok: true, sizes: [200, 400, 800] })
})

const badSweeps: Array<[string, RegExp]> = [
  ['200,400', /expected peers=<n>/],
  ['peers=', /expected peers=<n>/],
  ['peers=0', /from 1 to 100000/],
  ['peers=10,abc', /got "abc"/],
  ['peers=100001', /from 1 to 100000/],
]
for (const [text, message] of badSweeps) {
  parse(`refuses ${JSON.stringify(text)}`, () => {
    const result = parseSweep(text, 100_000)
    if (result.ok) assert.unreachable('accepted')
    else assert.match(result.error, message)
  })
}

parse('losses: none, zone and shares of peers', () => {
  assert.equal(parseLosses('none,10%,zone,2.5%'), { ok: true, losses: [{ kind: 'none' }, { kind: 'share', share: 0.1 }, { kind: 'zone' }, { kind: 'share', share: 0.025 }] })
  for (const bad of ['10', '100%', '-5%', 'rack', '']) assert.is(parseLosses(bad).ok, false, bad)
})

parse.run()

const answer = suite('sweep')

const forty = (() => {
  const result = validateServices({ services: { web: { command: ['run'], replicas: 40, resources: { cpu: 1, memory: 256 } } } })
  if (!result.ok) throw new Error(JSON.stringify(result.errors))
  return result.services
})()

answer('the smallest fleet holds the workload after each loss; smaller ones leave replicas pending', () => {
  const json = sweep({ seed: 1, sizes: [8, 10, 12, 15], profile: 'uniform', services: forty, losses: [{ kind: 'share', share: 0.1 }, { kind: 'zone' }] })
  const pending = (peers: number, loss: string) => json.rows.find((r) => r.peers === peers && r.loss === loss)!.replicasPending
  assert.is(pending(8, 'none'), 8)
  assert.is(pending(10, 'none'), 0)
  assert.is(pending(10, '10%'), 4)
  assert.is(pending(12, '10%'), 0)
  // A quarter of 12 peers is 3: 9 survivors hold 36 of the 40.
  assert.is(pending(12, 'zone'), 4)
  assert.is(json.smallestFleet, 15)
  assert.is(json.headroom!.none!.cpu, 0.3333)
})

answer('no size answers when every size is too small', () => {
  const json = sweep({ seed: 1, sizes: [2, 4], profile: 'uniform', services: forty, losses: [] })
  assert.is(json.smallestFleet, null)
  assert.is(json.headroom, null)
  assert.equal(json.losses, ['none'])
})

answer('the same seed gives the same rows', () => {
  const run = () => JSON.stringify(sweep({ seed: 7, sizes: [20, 40], profile: 'datacenter', services: forty, losses: [{ kind: 'share', share: 0.25 }, { kind: 'zone' }] }))
  assert.is(run(), run())
})

answer.run()
