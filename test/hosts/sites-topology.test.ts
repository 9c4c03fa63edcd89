// The many-sites topology's plan (no namespaces made: pure) and the reading of interface counters.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Host } from './hosts.js'
import { parseLinkCounters, sitesTopology } from './sites-topology.js'

const plan = suite('sites topology: the plan')

plan('h1 is the cloud on the WAN; each site\'s hosts follow in order behind their router', () => {
  const topology = sitesTopology(3, 2, 4242)
  assert.equal(topology.sites, ['s1', 's2', 's3'])
  assert.equal(topology.plan.hosts.map((host) => host.index), [1, 2, 3, 4, 5, 6, 7])
  assert.equal(['h1', 'h2', 'h3', 'h4', 'h7'].map((name) => topology.siteOf(name)), ['cloud', 's1', 's1', 's2', 's3'])
  const address = (index: number) => topology.plan.hosts.find((host) => host.index === index)!.address
  // Sites on subnets of their own, the cloud on the WAN's.
  assert.is(address(1).split('.').slice(0, 3).join('.'), topology.plan.clientAddress.split('.').slice(0, 3).join('.'))
  assert.is.not(address(2).split('.').slice(0, 3).join('.'), address(4).split('.').slice(0, 3).join('.'))
  // Hosts, then routers, then bridges; every name one sweepStale() recognises.
  assert.ok(topology.namespaces.every((name) => /^ph4242-(?:\d+|br)$/.test(name)), topology.namespaces.join(' '))
  assert.is(topology.namespaces.at(-1), 'ph4242-br')
  assert.throws(() => topology.siteOf('h8'), /no host h8/)
})

plan('a site host joins through the cloud and its own site\'s hosts; the cloud through nobody', () => {
  const topology = sitesTopology(2, 2, 4242)
  const hosts = topology.plan.hosts.map((host) => ({ ...host, name: `h${host.index}` }) as unknown as Host)
  const joins = (name: string) => topology.joinFor!(hosts.find((host) => host.name === name)!, hosts)
  assert.equal(joins('h1'), [])
  assert.equal(joins('h2'), [`${hosts[0]!.address}:4001`, `${hosts[2]!.address}:4001`])
  assert.equal(joins('h5'), [`${hosts[0]!.address}:4001`, `${hosts[3]!.address}:4001`])
})

plan('sizes out of range are refused, naming the bound', () => {
  assert.throws(() => sitesTopology(0, 2), /sites: 1 to 50, not 0/)
  assert.throws(() => sitesTopology(2, 41), /hosts per site: 1 to 40, not 41/)
})

plan.run()

const counters = suite('sites topology: interface counters')

counters('reads bytes and packets each way from ip -s -j link', () => {
  const json = JSON.stringify([{ ifname: 'wan0', stats64: { rx: { bytes: 1200, packets: 10, errors: 0 }, tx: { bytes: 3400, packets: 20, errors: 0 } } }])
  assert.equal(parseLinkCounters(json), { rxBytes: 1200, txBytes: 3400, rxPackets: 10, txPackets: 20 })
})

counters('anything but one interface with whole counts is an error that says what is wrong', () => {
  assert.throws(() => parseLinkCounters('[]'), /expected one interface.*got 0/)
  assert.throws(() => parseLinkCounters(JSON.stringify([{ stats64: { rx: { bytes: 1, packets: 1 }, tx: { bytes: -1, packets: 1 } } }])), /tx bytes is not a count: -1/)
  assert.throws(() => parseLinkCounters(JSON.stringify([{ ifname: 'wan0' }])), /rx bytes is not a count/)
})

counters.run()
