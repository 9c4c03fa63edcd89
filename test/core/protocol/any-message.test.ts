// Whatever a peer can validly send, the machine takes without throwing: sequences of arbitrary
// messages that pass the codec (any kind, any field within its rules), from known peers, strangers
// and this peer's own id, about services it runs and services it never heard of, interleaved with
// time passing and its own task reports. In the agent a throw on the gossip path would escape
// gossipsub's event dispatch; the transport now contains it, but it would still lose the message.

import { suite } from 'uvu'
import fc from 'fast-check'
import { defaultConfig, PeerMachine, peerId, seededRandom, serviceName, validateServices, type DesiredView, type PeerId } from '../../../core/index.js'
import { PEER_ID_PATTERN, SERVICE_NAME_PATTERN } from '../../../core/placement/ids.js'
import { messageArbitrary } from './message-arbitraries.js'

const SELF = peerId('self-peer')
const OTHERS = [peerId('other-1'), peerId('other-2')]
const SERVICES = ['web', 'api', 'job']

const declared = validateServices({
  services: {
    web: { command: ['sleep', '1'], replicas: 3 },
    api: { command: ['sleep', '1'], mode: 'global' },
    job: { command: ['true'], mode: 'job', replicas: 2 },
  },
})
if (!declared.ok) throw new Error(JSON.stringify(declared.errors))
const VIEW: DesiredView = { digest: 'desired-1', services: declared.services, peers: new Map() }

const peers = fc.oneof(fc.constantFrom(SELF, ...OTHERS), fc.stringMatching(PEER_ID_PATTERN).map(peerId))
const services = fc.oneof(fc.constantFrom(...SERVICES).map(serviceName), fc.stringMatching(SERVICE_NAME_PATTERN).map(serviceName))
const step = fc.tuple(peers, messageArbitrary({ peers, services }), fc.nat(3_000))

const machine = suite('the machine and any valid message')

machine('no sequence of valid messages from anyone makes it throw', () => {
  fc.assert(fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), fc.integer(), (steps, seed) => {
    const subject = new PeerMachine({
      self: SELF,
      incarnation: 1_000,
      capacity: { cpuMilli: 4_000, memoryMiB: 8_192, extended: {} },
      labels: {},
      drivers: ['process'],
      seeds: [],
      config: defaultConfig(3),
      random: seededRandom(String(seed)),
      restored: [],
    })
    let now = 1_000_000
    subject.start(now)
    subject.desiredChanged(VIEW, now)
    for (const other of OTHERS) subject.connected(other as PeerId, now)
    for (const [from, message, elapsed] of steps) {
      now += elapsed
      for (const output of subject.receive(from, message, now)) {
        if (output.kind === 'start-task') subject.taskChanged(output.task.slot, 'running', now + 1)
      }
      subject.tick(now)
    }
  }), { numRuns: 300 })
})

machine.run()
