// The rule set as data: which endpoints a listener's rules send to, with what shares, what is refused,
// masqueraded and let through, and which sysctls are asked for. No kernel needed.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import fc from 'fast-check'
import { chainNames } from '../../../../node/discovery/kernel/chains.js'
import { chooseEndpoints, desiredRules, shareOf } from '../../../../node/discovery/kernel/rules.js'
import type { Endpoint, EndpointSource, Listener } from '../../../../node/discovery/types.js'

const names = chainNames()
const endpoint = (index: number, local: boolean, ready = true): Endpoint =>
  ({ slot: `web/${index}`, peer: `p${index}`, address: `10.0.0.${index + 1}`, port: 9000, local, ready, state: 'running' }) as Endpoint
const sourceOf = (endpoints: readonly Endpoint[]): EndpointSource => ({ ready: () => endpoints.filter((e) => e.ready) })
const mesh = { service: 'web', target: 80, protocol: 'tcp', host: '0.0.0.0', port: 8080, role: 'mesh' } as Listener
const service = { service: 'web', target: 80, protocol: 'tcp', host: '127.77.0.5', port: 80, role: 'service' } as Listener
const onLo = { ...service, host: '169.254.77.5' } as Listener

const rules = suite('kernel rules')

rules('k ready endpoints share new connections evenly: rule i takes 1/(k−i), the last takes the rest', () => {
  assert.equal([0, 1, 2].map((i) => shareOf(i, 3)), ['0.3333333333', '0.5000000000', undefined])
  assert.equal(shareOf(0, 1), undefined)
  const set = desiredRules([mesh], sourceOf([endpoint(1, false), endpoint(2, false)]), names)
  const chain = set.chains.nat.get(names.listener('tcp 0.0.0.0:8080'))!
  assert.equal(chain.length, 2)
  assert.match(chain[0]!, /--probability 0.5000000000 -j DNAT --to-destination 10.0.0.2:9000$/)
  assert.match(chain[1]!, /-j DNAT --to-destination 10.0.0.3:9000$/)
  assert.not.match(chain[1]!, /statistic/)
})

rules('a published port is matched by port on local addresses; a service by address and port', () => {
  // Listed first, the published port 80 would catch the service address's port 80 as well.
  const set = desiredRules([{ ...mesh, port: 80 } as Listener, service, onLo], sourceOf([endpoint(1, false)]), names)
  const jumps = set.chains.nat.get(names.services)!
  assert.match(jumps[0]!, /^-d 127\.77\.0\.5\/32 -p tcp -m tcp --dport 80 -j PEER-L-/)
  assert.match(jumps[1]!, /^-d 169\.254\.77\.5\/32 -p tcp -m tcp --dport 80 -j PEER-L-/)
  assert.match(jumps[2]!, /^-p tcp -m addrtype --dst-type LOCAL -m tcp --dport 80 -j PEER-L-/)
})

rules('no ready endpoint: no DNAT, a reset in filter instead (icmp unreachable for UDP)', () => {
  const set = desiredRules([service, { ...mesh, protocol: 'udp' } as Listener], sourceOf([endpoint(1, false, false)]), names)
  assert.equal(set.chains.nat.get(names.services), [])
  assert.equal(set.chains.filter.get(names.reject), [
    '-d 127.77.0.5/32 -p tcp -m tcp --dport 80 -m conntrack ! --ctstate DNAT -j REJECT --reject-with tcp-reset',
    '-p udp -m udp --dport 8080 -m conntrack ! --ctstate DNAT -j REJECT --reject-with icmp-port-unreachable',
  ])
  assert.ok(set.statuses.every((status) => status.bound))
  assert.is(set.routeLocalnet, false)
  assert.is(set.ipForward, false)
})

rules('remote endpoints are masqueraded and let through FORWARD; local ones are not', () => {
  const local = desiredRules([mesh], sourceOf([endpoint(0, true), endpoint(1, false)]), names)
  assert.equal(local.chains.nat.get(names.postrouting), [])
  assert.equal(local.chains.filter.get(names.forward), [])
  const remote = desiredRules([mesh], sourceOf([endpoint(1, false)]), names)
  assert.equal(remote.chains.nat.get(names.postrouting), ['-d 10.0.0.2/32 -p tcp -m tcp --dport 9000 -m conntrack --ctstate DNAT --ctorigdstport 8080 -j MASQUERADE'])
  assert.equal(remote.chains.filter.get(names.forward), ['-p tcp -m conntrack --ctstate DNAT --ctorigdstport 8080 -j ACCEPT'])
})

rules('sysctls: route_localnet for loopback clients sent to another host, ip_forward for other hosts\' clients', () => {
  const remote = sourceOf([endpoint(1, false)])
  const local = sourceOf([endpoint(0, true)])
  const cases: Array<[Listener, EndpointSource, boolean, boolean]> = [
    [service, remote, true, false],
    [service, local, false, false],
    [mesh, remote, true, true],
    [mesh, local, false, false],
    [onLo, remote, false, true],
    [{ ...mesh, host: '10.9.9.9' } as Listener, remote, false, true],
  ]
  for (const [listener, source, routeLocalnet, ipForward] of cases) {
    const set = desiredRules([listener], source, names)
    assert.equal([set.routeLocalnet, set.ipForward], [routeLocalnet, ipForward], `${listener.host} ${listener.role}`)
  }
})

rules('a listener whose rules would take a local socket\'s traffic is reported unbound', () => {
  const set = desiredRules([mesh, service], sourceOf([endpoint(1, false)]), names, (listener) => (listener.port === 8080 ? 'tcp port 8080 is in use on this host' : undefined))
  assert.equal(set.statuses.map((status) => [status.bound, status.error]), [[false, 'tcp port 8080 is in use on this host'], [true, undefined]])
  assert.equal(set.chains.nat.get(names.services)!.length, 1)
})

rules('listeners the kernel cannot serve are reported, not written', () => {
  const bad = [
    { ...service, host: '::1' },
    { ...service, host: '0.0.0.0' },
    { ...mesh, port: 0 },
    mesh,
    { ...mesh, service: 'other' },
  ] as Listener[]
  const set = desiredRules(bad, sourceOf([endpoint(1, false)]), names)
  assert.equal(set.statuses.map((status) => status.bound), [false, false, false, true, false])
  assert.match(set.statuses[0]!.error!, /IPv4/)
  assert.match(set.statuses[1]!.error!, /service address/)
  assert.match(set.statuses[4]!.error!, /already forwarded for web/)
  assert.equal(set.chains.nat.get(names.services)!.length, 1)
})

const endpoints = fc.uniqueArray(
  fc.record({ index: fc.integer({ min: 0, max: 200 }), local: fc.boolean(), ready: fc.boolean() }).map(({ index, local, ready }) => endpoint(index, local, ready)),
  { selector: (e) => e.address, maxLength: 8 },
)

rules('property: DNAT only to ready endpoints; only local ones when one is; every ready one otherwise; even shares', () => {
  fc.assert(
    fc.property(endpoints, (all) => {
      const set = desiredRules([mesh], sourceOf(all), names)
      const chain = set.chains.nat.get(names.listener('tcp 0.0.0.0:8080')) ?? []
      const targets = chain.map((rule) => /--to-destination (\S+):9000$/.exec(rule)![1])
      const ready = all.filter((e) => e.ready)
      const wanted = (ready.some((e) => e.local) ? ready.filter((e) => e.local) : ready).map((e) => e.address)
      assert.equal(targets, wanted)
      assert.equal(chooseEndpoints(all).map((e) => e.address), wanted)
      // A listener is either redirected or refused, never both, never neither.
      assert.is(set.chains.filter.get(names.reject)!.length, wanted.length === 0 ? 1 : 0)
      // The probability that rule i is the one taken is 1/k for every i.
      let left = 1
      for (const rule of chain) {
        const share = /--probability (\S+)/.exec(rule)?.[1]
        const taken = left * (share === undefined ? 1 : Number(share))
        assert.ok(Math.abs(taken - 1 / chain.length) < 1e-9, `${taken} vs 1/${chain.length}`)
        left -= taken
      }
    }),
  )
})

rules.run()
