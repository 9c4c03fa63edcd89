// How peers learn each other's addresses (p2p/address-book.ts): what an announcement may hold, and
// what the address book does with its components (a pubsub, a peer store, dialling), here all fakes.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { TopicValidatorResult, type PublishResult, type SignedMessage, type TopicValidatorFn } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { ADDRESS_TOPIC, AddressBook, identityFromSeed, parseAnnouncement, type Identity } from '../../p2p/index.js'

const announcements = suite('address announcements')

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value))

announcements('an announcement of the author\'s own addresses is accepted, with or without /p2p/', async () => {
  const author = (await identityFromSeed('announcer')).peerId
  const addresses = parseAnnouncement(encode({ addresses: ['/ip4/10.0.0.2/tcp/4001', `/ip4/10.0.0.2/tcp/4001/p2p/${author}`] }), author)
  assert.equal(addresses?.map(String), ['/ip4/10.0.0.2/tcp/4001', `/ip4/10.0.0.2/tcp/4001/p2p/${author}`])
})

announcements('malformed announcements, and ones naming another peer, are refused', async () => {
  const author = (await identityFromSeed('announcer')).peerId
  const other = (await identityFromSeed('someone-else')).peerId
  const cases: Array<[string, Uint8Array]> = [
    ['not JSON', encode('{{')],
    ['not UTF-8', new Uint8Array([0xff, 0xfe])],
    ['no addresses field', encode({ address: ['/ip4/10.0.0.2/tcp/1'] })],
    ['an empty list', encode({ addresses: [] })],
    ['a non-string entry', encode({ addresses: [42] })],
    ['not a multiaddr', encode({ addresses: ['10.0.0.2:4001'] })],
    ['another peer\'s id', encode({ addresses: [`/ip4/10.0.0.2/tcp/4001/p2p/${other}`] })],
    ['too many addresses', encode({ addresses: Array.from({ length: 33 }, (_, i) => `/ip4/10.0.0.${i}/tcp/1`) })],
    ['an overlong address', encode({ addresses: [`/dns4/${'a'.repeat(300)}.example/tcp/1`] })],
  ]
  for (const [name, bytes] of cases) assert.is(parseAnnouncement(bytes, author), undefined, name)
})

announcements.run()

// --- The address book, on fake components --------------------------------------------------------

/** Gossipsub as the address book sees it: a validator per topic, subscriptions, publishes, events. */
class FakePubsub extends EventTarget {
  readonly topicValidators = new Map<string, TopicValidatorFn>()
  /** Each subscription, and whether its topic had a validator at that moment. */
  readonly subscribed: Array<{ topic: string; validated: boolean }> = []
  readonly published: Array<{ topic: string; data: Uint8Array }> = []
  /** Neighbours subscribed to the address topic. */
  readonly subscribers = new Map<string, PeerId>()

  subscribe(topic: string): void {
    this.subscribed.push({ topic, validated: this.topicValidators.has(topic) })
  }

  /** Subscribers gossipsub has no stream to yet: a publish leaves them out. */
  readonly streamless = new Set<string>()

  async publish(topic: string, data = new Uint8Array()): Promise<PublishResult> {
    this.published.push({ topic, data })
    return { recipients: this.getSubscribers(topic).filter((peer) => !this.streamless.has(peer.toString())) }
  }

  /** A message as gossipsub hands it on, here straight from its author: through its topic's validator, then to listeners if accepted. */
  async deliver(message: SignedMessage): Promise<TopicValidatorResult | undefined> {
    const verdict = await this.topicValidators.get(message.topic)?.(message.from, message)
    if (verdict === TopicValidatorResult.Accept) this.dispatchEvent(new CustomEvent('message', { detail: message }))
    return verdict
  }

  getSubscribers(topic: string): PeerId[] {
    return topic === ADDRESS_TOPIC ? [...this.subscribers.values()] : []
  }

  neighbourSubscribed(topic: string, peer: PeerId): void {
    if (topic === ADDRESS_TOPIC) this.subscribers.set(peer.toString(), peer)
    this.dispatchEvent(new CustomEvent('subscription-change', { detail: { peerId: peer, subscriptions: [{ topic, subscribe: true }] } }))
  }

  neighbourLeft(peer: PeerId): void {
    this.subscribers.delete(peer.toString())
  }
}

interface Fakes {
  readonly book: AddressBook
  readonly pubsub: FakePubsub
  readonly stored: Array<{ peer: string; addresses: string[] }>
  readonly dialled: string[]
  /** Peers the fake node holds a connection to. */
  readonly connected: Set<string>
}

async function fakes(self: Identity, listening: readonly string[], addresses: () => readonly string[] = () => listening): Promise<Fakes> {
  const pubsub = new FakePubsub()
  const stored: Fakes['stored'] = []
  const dialled: string[] = []
  const connected = new Set<string>()
  const book = new AddressBook(
    {
      peerId: peerIdFromString(self.peerId),
      pubsub,
      peerStore: {
        merge: async (peer: PeerId, data: { multiaddrs: Multiaddr[] }) => void stored.push({ peer: peer.toString(), addresses: data.multiaddrs.map(String) }),
      },
      getMultiaddrs: () => addresses().map((address) => multiaddr(address)),
      getConnections: (peer) => (connected.has(peer.toString()) ? [{}] : []),
      dial: async (peer) => void dialled.push(peer.toString()),
    },
    { announceIntervalMs: 60_000, dialTimeoutMs: 1_000 },
  )
  return { book, pubsub, stored, dialled, connected }
}

/** Gossipsub numbers an author's messages in order; each announcement here comes after the last. */
let lastSequenceNumber = 0n

function announcement(author: Identity, addresses: readonly string[], reachability?: string, sequenceNumber = ++lastSequenceNumber): SignedMessage {
  return {
    type: 'signed',
    from: peerIdFromString(author.peerId),
    topic: ADDRESS_TOPIC,
    data: encode(reachability === undefined ? { addresses } : { addresses, reachability }),
    sequenceNumber,
    signature: new Uint8Array(),
    key: author.privateKey.publicKey,
  }
}

const settle = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const book = suite('address book')

book('start puts the validator in place before subscribing; stop takes both back', async () => {
  const { book, pubsub, stored } = await fakes(await identityFromSeed('self'), ['/ip4/10.0.0.1/tcp/4001'])
  book.start()
  assert.equal(pubsub.subscribed, [{ topic: ADDRESS_TOPIC, validated: true }])
  book.stop()
  assert.not.ok(pubsub.topicValidators.has(ADDRESS_TOPIC))
  pubsub.dispatchEvent(new CustomEvent('message', { detail: announcement(await identityFromSeed('other'), ['/ip4/10.0.0.3/tcp/1']) }))
  await settle()
  assert.equal(stored, [])
})

book('neighbours subscribing in a burst get one announcement, of the addresses that are not loopback', async () => {
  const self = await identityFromSeed('self')
  const { book, pubsub } = await fakes(self, ['/ip4/127.0.0.1/tcp/4001', '/ip4/10.0.0.1/tcp/4001'])
  book.start()
  try {
    const neighbours = await Promise.all(['n1', 'n2', 'n3'].map(async (seed) => peerIdFromString((await identityFromSeed(seed)).peerId)))
    pubsub.neighbourSubscribed('/some/other/topic', neighbours[0]!)
    for (const neighbour of neighbours) pubsub.neighbourSubscribed(ADDRESS_TOPIC, neighbour)
    await settle(250)
    assert.is(pubsub.published.length, 1)
    const [published] = pubsub.published
    assert.is(published!.topic, ADDRESS_TOPIC)
    assert.equal(parseAnnouncement(published!.data, self.peerId)?.map(String), ['/ip4/10.0.0.1/tcp/4001'])
  } finally {
    book.stop()
  }
})

book('a neighbour that subscribes again holds our announcement already: only a new neighbour, or new addresses, set one off', async () => {
  const self = await identityFromSeed('self')
  let listening = ['/ip4/10.0.0.1/tcp/4001']
  const { book, pubsub } = await fakes(self, [], () => listening)
  const [a, b] = await Promise.all(['n1', 'n2'].map(async (seed) => peerIdFromString((await identityFromSeed(seed)).peerId)))
  book.start()
  try {
    pubsub.neighbourSubscribed(ADDRESS_TOPIC, a!)
    await settle(250)
    assert.is(pubsub.published.length, 1)
    pubsub.neighbourLeft(a!) // a partition, a restart: it comes back
    pubsub.neighbourSubscribed(ADDRESS_TOPIC, a!)
    await settle(250)
    assert.is(pubsub.published.length, 1, 'it got our addresses when we announced them')
    pubsub.neighbourSubscribed(ADDRESS_TOPIC, b!)
    await settle(250)
    assert.is(pubsub.published.length, 2, 'a new neighbour')
    listening = ['/ip4/10.0.0.9/tcp/4001']
    book.announceSoon() // what the host does when its addresses change
    await settle(250)
    assert.is(pubsub.published.length, 3)
    pubsub.neighbourLeft(a!)
    pubsub.neighbourSubscribed(ADDRESS_TOPIC, a!)
    await settle(250)
    assert.is(pubsub.published.length, 3, 'it was subscribed when the new addresses went out')
  } finally {
    book.stop()
  }
})

book('a subscribed neighbour an announcement missed (no stream to it yet) is announced to again soon, until it gets one', async () => {
  const self = await identityFromSeed('self')
  const { book, pubsub } = await fakes(self, ['/ip4/10.0.0.1/tcp/4001'])
  const neighbour = peerIdFromString((await identityFromSeed('n1')).peerId)
  book.start()
  try {
    pubsub.streamless.add(neighbour.toString())
    pubsub.neighbourSubscribed(ADDRESS_TOPIC, neighbour)
    await settle(250)
    assert.is(pubsub.published.length, 1, 'announced when it subscribed, but it got nothing')
    await settle(600)
    assert.is(pubsub.published.length, 2, 'again half a second later')
    pubsub.streamless.clear()
    await settle(1_200)
    assert.is(pubsub.published.length, 3, 'and again a second after that, which it gets')
    await settle(2_500)
    assert.is(pubsub.published.length, 3, 'then nothing more: it holds our announcement')
  } finally {
    book.stop()
  }
})

book('an announcement older than the one held from its author (gossip repairs deliver in any order) is ignored, not passed on', async () => {
  const self = await identityFromSeed('self')
  const relay = await identityFromSeed('relay')
  const { book, pubsub } = await fakes(self, ['/ip4/10.0.0.1/tcp/4001'])
  book.start()
  try {
    const first = announcement(relay, ['/ip4/198.51.100.1/tcp/4001'], 'unknown')
    const second = announcement(relay, ['/ip4/198.51.100.1/tcp/4001'], 'public')
    assert.is(await pubsub.deliver(second), TopicValidatorResult.Accept)
    await settle()
    assert.is(book.reachabilityOf(relay.peerId), 'public')
    assert.is(await pubsub.deliver(first), TopicValidatorResult.Ignore)
    assert.is(await pubsub.deliver(second), TopicValidatorResult.Ignore, 'nor the same one twice')
    await settle()
    assert.is(book.reachabilityOf(relay.peerId), 'public', 'the older "unknown" does not undo the newer "public"')
    assert.is(await pubsub.deliver(announcement(relay, ['/ip4/198.51.100.9/tcp/4001'], 'public')), TopicValidatorResult.Accept)
    await settle()
    assert.equal(book.addressesOf(relay.peerId), ['/ip4/198.51.100.9/tcp/4001'], 'a newer one is taken')
  } finally {
    book.stop()
  }
})

book('another peer\'s announcement is stored and its author dialled, unless connected; our own and forged ones are not', async () => {
  const self = await identityFromSeed('self')
  const other = await identityFromSeed('other')
  const third = await identityFromSeed('third')
  const { book, pubsub, stored, dialled, connected } = await fakes(self, ['/ip4/10.0.0.1/tcp/4001'])
  book.start()
  try {
    assert.is(await pubsub.deliver(announcement(other, ['/ip4/10.0.0.2/tcp/4001'])), TopicValidatorResult.Accept)
    await settle()
    assert.equal(stored, [{ peer: other.peerId, addresses: ['/ip4/10.0.0.2/tcp/4001'] }])
    assert.equal(dialled, [other.peerId])

    connected.add(third.peerId)
    await pubsub.deliver(announcement(third, ['/ip4/10.0.0.3/tcp/4001']))
    await pubsub.deliver(announcement(self, ['/ip4/10.0.0.1/tcp/4001']))
    assert.is(await pubsub.deliver(announcement(other, [`/ip4/10.0.0.3/tcp/4001/p2p/${third.peerId}`])), TopicValidatorResult.Reject)
    await settle()
    assert.equal(stored.map((entry) => entry.peer), [other.peerId, third.peerId])
    assert.equal(dialled, [other.peerId])
    assert.is(book.rejected, 1)
  } finally {
    book.stop()
  }
})

book.run()
