// Discovery recomputes the endpoint registry only when what it is computed from changed (or a listener
// still waits to bind): the agent tells it after every input, and most inputs are probes and acks.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { peerId, validateServices, type PeerView, type ServiceSpec } from '../../../core/index.js'
import { Discovery, parseServiceRange, type RegistryInputs } from '../../../node/discovery/index.js'
import { InputsSignature } from '../../../node/discovery/inputs-signature.js'
import type { Forwarder, Listener, ListenerStatus } from '../../../node/discovery/types.js'

const A = peerId('peer-a')
const B = peerId('peer-b')

function spec(name: string): ServiceSpec {
  const result = validateServices({ services: { [name]: { driver: 'process', command: ['srv'], ports: [{ container: 80, mode: 'ingress' }] } } })
  if (!result.ok) throw new Error(result.errors.map((e) => `${e.path}: ${e.message}`).join('; '))
  return result.services[0]!
}

function view(id: typeof A): PeerView {
  const none = { cpuMilli: 0, memoryMiB: 0, extended: {} }
  return { id, state: 'alive', capacity: none, allocated: none, labels: {}, drivers: ['process'], tasks: [] }
}

const signature = suite('discovery: the signature of the registry\'s inputs')

signature('the same services and views, in a new array, with the same addresses and links match', () => {
  const services = [spec('web')]
  const views = [view(A), view(B)]
  const addresses: Record<string, string> = { [A]: '10.0.0.1', [B]: '10.0.0.2' }
  const inputs = (): RegistryInputs => ({ self: A, services, peers: [...views], addressOf: (p) => addresses[p], tunnelled: () => false })
  const taken = InputsSignature.of(inputs())
  assert.ok(taken.matches(inputs()))
  assert.not.ok(taken.matches({ ...inputs(), services: [...services] }), 'a new desired state')
  assert.not.ok(taken.matches({ ...inputs(), peers: [views[0]!, view(B)] }), 'a peer\'s new view (a new advert or status)')
  assert.not.ok(taken.matches({ ...inputs(), peers: [views[0]!] }), 'a peer gone')
  assert.not.ok(taken.matches({ ...inputs(), addressOf: (p) => (p === B ? '10.0.0.9' : addresses[p]) }), 'a peer\'s new address')
  assert.not.ok(taken.matches({ ...inputs(), addressOf: (p) => (p === B ? undefined : addresses[p]) }), 'no address for a peer any more')
  assert.not.ok(taken.matches({ ...inputs(), tunnelled: (p) => p === B }), 'a peer now reached through a relay')
})

const recompute = suite('discovery: when the registry is recomputed')

async function discoveryCounting(inputs: () => RegistryInputs, bound: () => boolean): Promise<{ discovery: Discovery; applied: () => number }> {
  let applied = 0
  const forwarder: Forwarder = {
    mode: 'userspace',
    apply: async (listeners: readonly Listener[]): Promise<readonly ListenerStatus[]> => {
      applied++
      return listeners.map((listener) => (bound() ? { listener, bound: true } : { listener, bound: false, error: 'address in use' }))
    },
    endpointsChanged: () => undefined,
    traffic: () => [],
    close: async () => undefined,
  }
  const range = parseServiceRange('127.77.10.0/28') as Exclude<ReturnType<typeof parseServiceRange>, string>
  const discovery = await Discovery.open({
    self: A, range, dns: 'off', startDns: () => Promise.reject(new Error('no DNS here')), createForwarder: async () => forwarder,
    meshHost: '127.0.0.1', inputs, log: () => undefined, settleMs: 5,
  })
  return { discovery, applied: () => applied }
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 40))

recompute('inputs that changed nothing it reads recompute nothing; a changed address recomputes once', async () => {
  const services = [spec('web')]
  const views = [view(A), view(B)]
  let addressOfB = '10.0.0.2'
  const inputs = (): RegistryInputs => ({ self: A, services, peers: [...views], addressOf: (p) => (p === A ? '10.0.0.1' : addressOfB) })
  const { discovery, applied } = await discoveryCounting(inputs, () => true)
  try {
    assert.is(applied(), 1, 'computed when it opened')
    for (let i = 0; i < 10; i++) discovery.changed()
    await settle()
    assert.is(applied(), 1)
    addressOfB = '10.0.0.9'
    for (let i = 0; i < 10; i++) discovery.changed()
    await settle()
    assert.is(applied(), 2)
    assert.equal(discovery.registry.all().length, 1)
  } finally {
    await discovery.close()
  }
})

recompute('while a listener could not bind, every change tries again', async () => {
  const services = [spec('web')]
  const views = [view(A)]
  let bound = false
  const inputs = (): RegistryInputs => ({ self: A, services, peers: [...views], addressOf: () => '10.0.0.1' })
  const { discovery, applied } = await discoveryCounting(inputs, () => bound)
  try {
    discovery.changed()
    await settle()
    assert.is(applied(), 2)
    bound = true
    discovery.changed()
    await settle()
    assert.is(applied(), 3)
    discovery.changed()
    await settle()
    assert.is(applied(), 3, 'bound now: nothing to try again')
    assert.ok(discovery.status().listeners.every((status) => status.bound))
  } finally {
    await discovery.close()
  }
})

signature.run()
recompute.run()
