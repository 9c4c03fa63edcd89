// A started libp2p node configured the way a peer of the cluster needs it:
//
//   TCP → pnet (pre-shared key, mandatory) → Noise → Yamux, with identify and gossipsub.
//
// Order matters in three places, each set below where it happens: the polyfill is imported before
// libp2p; the KEEP_ALIVE tag is set on every connect (libp2p redials only tagged peers after a drop);
// and gossipsub's options are fixed at construction (the transport adds topic validators later).
//
// Discovery starts from the join list: entries with a /p2p/ id go to the bootstrap module (dialled at
// start, no delay), and every entry is redialled every rejoinIntervalMs while not connected, because
// bootstrap dials only once and libp2p gives up on KEEP_ALIVE peers after its retries. Peers then
// learn each other's addresses from signed announcements (address-book.ts) and dial each other.
//
// With `mdns: true` peers on one LAN also find each other by multicast DNS, under a service tag made
// of this product's name and the swarm key's fingerprint (mdnsServiceTag), so clusters sharing a LAN
// do not even see each other's answers; pnet would refuse a stranger anyway. libp2p's discovery only
// fills the peer store, so MdnsDialer dials what mDNS finds.

import './polyfill.js'

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { gossipsub, type GossipSub } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import { KEEP_ALIVE, type Connection, type Libp2p, type PeerId, type PeerInfo, type PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { tcp } from '@libp2p/tcp'
import { joinLabel } from './join-label.js'
import { ipOfMultiaddr } from './multiaddr-ip.js'
import { CODE_P2P, multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import { AddressBook } from './address-book.js'
import { HOST_DEFAULTS, TUNNEL_DEFAULTS } from './config.js'
import { ConnectionMonitor } from './connection-monitor.js'
import { holdYamuxWindowUpdates } from './yamux-window.js'
import { SetupError } from './errors.js'
import { loadOrCreateIdentity } from './identity.js'
import { parseSwarmKey, type SwarmKey } from './swarm-key.js'
import { privateNetwork } from './pnet.js'
import { TunnelLinks } from './tunnel-links.js'
import { RelayFailover } from './relay-failover.js'
import { SiteMateLinks } from './site-mate-links.js'
import { HolePunch, PUNCH_MESSAGE_LIMIT_BYTES, punchComponents, type PunchComponents } from './hole-punch.js'
import { PUNCH_PROTOCOL } from './protocols.js'
import { sendRequest, serveRequest } from './request.js'
import { dialOrder, directlyConnectedPeers, NodeDialView } from './dial-order.js'
import { fastGossipMessageId } from './gossip-message-id.js'
import { DuplicateConnections } from './duplicate-connections.js'
import { DialRace, registerDialRace } from './dial-race.js'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { noiseCrypto } from './noise-crypto.js'
import { linkTo, listenComponents, ReachabilityObserver, relayOf, relayServer, RelayKeeper, type ListenComponents, type PeerLink, type Reachability } from './nat.js'
import { messageOf } from '../core/index.js'

/** gossipsub's handler for a connection the registrar announces (present in @libp2p/gossipsub 17, private in its types). */
interface GossipsubConnectionHandler {
  onPeerConnected(peer: PeerId, connection: Connection): void
}

export type HostServices = { identify: Identify; pubsub: GossipSub; relay: unknown; listen: ListenComponents; punch: PunchComponents }
export type HostNode = Libp2p<HostServices>

export interface HostInit {
  /** Directory holding identity.key (created on first start). One of dataDir and privateKey is required. */
  readonly dataDir?: string
  /** A key to use instead of the data directory's (tests: identityFromSeed). */
  readonly privateKey?: PrivateKey
  /** The pre-shared key: parsed (readSwarmKeyFile, parseSwarmKey) or a key file's raw contents. Required. */
  readonly swarmKey: SwarmKey | Uint8Array | string | undefined
  /** Multiaddrs to listen on, e.g. /ip4/0.0.0.0/tcp/4001 (port 0 picks a free port). */
  readonly listen: readonly string[]
  /** Multiaddrs of peers to join through; with or without /p2p/<id>. */
  readonly join: readonly string[]
  /**
   * Find peers of this cluster on the local network by mDNS (UDP multicast, 224.0.0.251:5353) and dial
   * them. Off by default. Only peers whose swarm key has the same fingerprint answer (mdnsServiceTag);
   * only holders of the key can connect anyway (pnet).
   */
  readonly mdns?: boolean
  /** Overrides of HOST_DEFAULTS (tests shorten timeouts). */
  readonly tuning?: Partial<HostTuning>
  /** One line per event worth a person's attention: a join address that cannot be joined, and when it can again. */
  readonly log?: (line: string) => void
}

export type HostTuning = { -readonly [K in keyof typeof HOST_DEFAULTS]: number }

/**
 * Why dials to a join address fail:
 *   handshake    the connection opened but the private-network or Noise handshake failed: the peer
 *                there has another swarm key, or is no peer at all
 *   wrong-peer   a peer of this cluster answers, but not the one the address's /p2p/ id names
 *   unreachable  nobody answers (refused, timed out, no route)
 */
export type JoinFailureKind = 'handshake' | 'wrong-peer' | 'unreachable'

/** A join address that could not be dialled at its last attempt(s). */
export interface JoinFailure {
  /** The join address as given (a multiaddr). */
  readonly address: string
  /** When its dials started failing (ms since the epoch). */
  readonly since: number
  /** When it was last tried. */
  readonly lastAttempt: number
  /** Failed dials since `since`. */
  readonly attempts: number
  readonly kind: JoinFailureKind
  /** The reason in words, e.g. "pre-shared key mismatch or not a peer". */
  readonly reason: string
}

export interface Host {
  readonly node: HostNode
  readonly pubsub: GossipSub
  /** This peer's id (base58). */
  readonly peerId: string
  readonly swarmKeyFingerprint: string
  /** Addresses others can dial, each ending in /p2p/<id>. */
  addresses(): string[]
  /** Connected peers, each once (two connections to one peer after simultaneous redials count once). */
  peers(): string[]
  /** The IP address a connected peer is reached at (from an open connection), or undefined. */
  peerAddress(peer: string): string | undefined
  /** Connections aborted because their private-network cipher failed (each closed alone; the process goes on). */
  connectionFaults(): number
  /** Connections closed before their handshake because the pair had another (both ends dialled at once: dial-race.ts). */
  crossingConnectionsClosed(): number
  /** Connections opened since start, both directions (more than the peers: churn, or pairs that dialled each other). */
  connectionsOpened(): number
  /**
   * Data from the other end was just read off `connection` (a direct frame): the connection is
   * alive, and the connection monitor need not ping it for a while.
   */
  heard(connection: Connection): void
  /**
   * An authentic datagram from `peer` just arrived (p2p/datagrams.ts): its connections are pinged
   * less often, never not at all (a connection can die while datagrams still pass).
   */
  heardByDatagram(peer: string): void
  /** The addresses this host was told to listen on, as given (datagrams bind beside the first). */
  readonly listenAddresses: readonly string[]
  /** Join addresses whose dials fail now, in the order given, with why (see JoinFailure). */
  joinFailures(): JoinFailure[]
  /** Whether peers outside this host's network can dial it, as the peers connected to it observe (p2p/nat.ts). */
  reachability(): Reachability
  /** What `peer` last announced about its own reachability. */
  reachabilityOf(peer: string): Reachability
  /** How this peer is connected to `peer` now (direct, hole-punched, or relayed and through whom); undefined when not connected. */
  linkTo(peer: string): PeerLink | undefined
  /** Whether `connection` was opened by a hole punch (hole-punch.ts): direct, but to the peer's NAT router. */
  isPunched(connection: Connection): boolean
  /** The relays this peer holds a reservation on (behind NAT), by peer id. */
  relays(): string[]
  /** Relayed connections of their own for service tunnels to peers reached only through a relay (tunnel-links.ts). */
  readonly tunnels: TunnelLinks
  /**
   * The membership protocol declared `peer` dead: if it relays links of this host, its connections
   * are closed so those links move to another relay (relay-failover.ts). Connections to a dead peer
   * that relays nothing for us are left to the connection monitor: closing them all at the verdict
   * gave no gain and a healed partition looked slower with it (ten real hosts, 4 | 6, three runs
   * each: every slot once 3.1–4.0 s after the heal with, 1.9–3.6 s without — within the noise).
   */
  dropRelay(peer: string): void
  /** The membership protocol suspects `peer`: links relayed through it move to another relay (relay-failover.ts). */
  moveOffRelay(peer: string): void
  /**
   * The membership protocol holds `peer` alive (again). While suspected or dead, circuits through it
   * are dialled after those through other relays (dial-order.ts).
   */
  memberAlive(peer: string): void
  /**
   * Which peers share this host's site (their `site` label is this host's): one reached only through
   * a relay is dialled directly beside it (site-mate-links.ts). Undefined, or never called: none.
   */
  siteMates(isSiteMate: ((peer: string) => boolean) | undefined): void
  /** Dials a multiaddr now and resolves with the remote peer id; rejects when the dial fails (wrong swarm key, nobody there). */
  dial(target: string, timeoutMs?: number): Promise<string>
  /** Stops the node. Safe to call more than once, concurrently, or after a failed start. */
  stop(): Promise<void>
}

export async function createHost(init: HostInit): Promise<Host> {
  const tuning: HostTuning = { ...HOST_DEFAULTS, ...init.tuning }
  const swarmKey = resolveSwarmKey(init.swarmKey)
  const privateKey = await resolvePrivateKey(init)
  const listen = init.listen.map((address) => parseAddress(address, 'listen'))
  const join = init.join.map((address) => parseAddress(address, 'join'))

  const bootstrapList = join.filter((address) => peerIdOf(address) !== undefined).map((address) => address.toString())
  const mdnsDialer = init.mdns === true ? new MdnsDialer(tuning) : undefined
  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (bootstrapList.length > 0) peerDiscovery.push(bootstrap({ list: bootstrapList, timeout: 0 }))
  if (mdnsDialer !== undefined) {
    const createMdns = mdns({ serviceTag: mdnsServiceTag(swarmKey.fingerprint), interval: tuning.mdnsQueryIntervalMs })
    peerDiscovery.push((components) => {
      const service = createMdns(components)
      // The service's own event, not the node's peer:discovery: that one fires only the first time the
      // peer store sees a peer (from any source), so a failed dial would never be tried again.
      service.addEventListener('peer', (event) => mdnsDialer.found(event.detail))
      return service
    })
  }

  // Small messages on long-lived streams would each be answered by a window update (yamux-window.ts).
  holdYamuxWindowUpdates()
  let connectionFaults = 0
  let rejoin: Rejoiner | undefined
  // The dial order (dial-order.ts) reads the node's connections, so it is made once the node is.
  let dialView: NodeDialView | undefined
  let reachabilityAnnounced: ((peer: string) => Reachability) | undefined
  // Both ends of a pair dialling each other at once: settled before the handshakes (dial-race.ts).
  const openDirectTo = (peer: string): boolean => directlyConnectedPeers(node.getConnections(peerIdFromString(peer))).has(peer)
  const dialRace = new DialRace(peerIdFromPrivateKey(privateKey).toString(), openDirectTo, tuning.upgradeTimeoutMs)
  // Created stopped: the KEEP_ALIVE listener must be in place before bootstrap's first dial.
  const node: HostNode = await createLibp2p<HostServices>({
    start: false,
    privateKey,
    connectionGater: {
      denyDialPeer: (peer) => dialRace.dialStarted(peer),
      denyOutboundConnection: (peer, connection) => dialRace.outboundStarted(peer, connection),
      denyInboundConnection: (connection) => dialRace.inboundArrived(connection),
    },
    addresses: { listen: listen.map((address) => address.toString()) },
    // TCP, and circuits through a relay for peers behind NAT (nat.ts): dialled only at …/p2p-circuit addresses.
    transports: [tcp(), circuitRelayTransport()],
    connectionProtector: privateNetwork({
      key: swarmKey.bytes,
      timeoutMs: tuning.pnetTimeoutMs,
      onFault: () => connectionFaults++,
      onHandshake: (remote, direction) => {
        if (direction === 'outbound') rejoin?.handshakeStarted(remote)
      },
    }),
    connectionEncrypters: [noise({ crypto: noiseCrypto })],
    streamMuxers: [yamux({ streamOptions: { maxStreamWindowSize: TUNNEL_DEFAULTS.streamWindowBytes } })],
    peerDiscovery,
    connectionManager: {
      maxConnections: tuning.maxConnections,
      dialTimeout: tuning.dialTimeoutMs,
      inboundUpgradeTimeout: tuning.upgradeTimeoutMs,
      inboundConnectionThreshold: tuning.inboundConnectionsPerSecondPerHost,
      reconnectRetries: tuning.reconnectRetries,
      reconnectRetryInterval: tuning.reconnectRetryIntervalMs,
      reconnectBackoffFactor: tuning.reconnectBackoffFactor,
      // A peer behind NAT in another site: its circuits before its private addresses.
      addressSorter: dialOrder(() => dialView),
    },
    // Ours instead (connection-monitor.ts): it skips connections that carried a direct frame lately.
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      pubsub: gossipsub({
        // Every message carries its author's signature and is checked on receipt: the `from` the
        // machine sees is the author, proven, not whoever forwarded it.
        globalSignaturePolicy: 'StrictSign',
        // Copies already seen are dropped before their signature is checked again.
        fastMsgIdFn: fastGossipMessageId,
        // A lone peer (first of a cluster, or cut off) must be able to publish; otherwise publish throws.
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        // Every peer is ours: no floodsub fallback to negotiate.
        fallbackToFloodsub: false,
        emitSelf: false,
        // Between two peers behind NAT the only connection may be relayed: gossip must use it too.
        runOnLimitedConnection: true,
        // A smaller mesh than gossipsub's default (D 6, from 4 to 12): its clusters are a few to a
        // few hundred hosts, nearly all connected to each other, and the author of a message sends
        // it to every connected subscriber itself (floodPublish, on by default), so each copy a
        // mesh neighbour forwards is redundancy. In a ten-peer cluster with D 6 an agent's mesh held
        // six to nine of its nine peers, so a broadcast reached it up to that many times, each copy
        // after the first dropped only once decrypted and decoded: with D 3 the heal of a partition
        // took ≈ 9 % less CPU (BENCHMARKS.md, *Every measure again*).
        D: 3,
        Dlo: 2,
        Dhi: 6,
        // Must stay below Dlo and at most D / 2; Dscore at most D.
        Dout: 1,
        Dscore: 2,
      }),
      relay: relayServer(),
      listen: listenComponents(),
      punch: punchComponents(),
    },
  })

  // Tag every peer we connect to KEEP_ALIVE, so that after a drop libp2p redials it (with backoff).
  // Without the tag a peer that restarts or blips is never dialled again by this side.
  const onConnect = (event: CustomEvent<PeerId>): void => {
    node.peerStore.merge(event.detail, { tags: { [KEEP_ALIVE]: { value: 1 } } }).catch(() => undefined)
  }
  node.addEventListener('peer:connect', onConnect)
  registerDialRace(node, dialRace)
  node.addEventListener('connection:open', (event) => dialRace.opened(event.detail))
  // Started with the node: the join dials at start show which peers this host reaches directly.
  dialView = new NodeDialView({ node, reachabilityOf: (peer) => reachabilityAnnounced?.(peer) ?? 'unknown' })
  dialView.start()
  try {
    await node.start()
  } catch (error) {
    dialView.stop()
    await Promise.resolve(node.stop()).catch(() => undefined)
    // A port in use or an address that cannot be bound is the user's to fix; the rest is a bug.
    const text = messageOf(error)
    if (/EADDRINUSE|EADDRNOTAVAIL|EACCES|listen/i.test(text)) {
      throw new SetupError('listen-failed', `cannot listen on ${listen.map(String).join(', ')}: ${text}`)
    }
    throw error
  }

  // Connections opened by a hole punch (hole-punch.ts), asked by the monitor at its ticks and by
  // tunnels: the puncher is made further down, once the address book and reachability exist.
  let holePunchMade: HolePunch | undefined
  const isPunched = (connection: Connection): boolean => holePunchMade?.isPunched(connection) ?? false
  const monitor = new ConnectionMonitor({
    connections: () => node.getConnections(),
    quietMs: tuning.pingIntervalMs,
    datagramQuietMs: tuning.pingIntervalWithDatagramsMs,
    relayedQuietMs: tuning.pingIntervalRelayedMs,
    punched: isPunched,
    punchedQuietMs: tuning.pingIntervalPunchedMs,
    tickMs: tuning.pingTickMs,
    timeoutMinMs: tuning.pingTimeoutMinMs,
    timeoutMaxMs: tuning.pingTimeoutMaxMs,
  })
  monitor.start()
  const self = node.peerId.toString()
  const duplicates = new DuplicateConnections({
    node,
    self,
    settleMs: tuning.duplicateSettleMs,
    // gossipsub's handler for a new connection, private in its types (duplicate-connections.ts says why it is called).
    reattach: (peer, connection) => (node.services.pubsub as unknown as GossipsubConnectionHandler).onPeerConnected(peer, connection),
  })
  duplicates.start()
  rejoin = new Rejoiner(node, join, self, tuning, init.log ?? (() => undefined))
  rejoin.start()
  const rejoiner = rejoin
  mdnsDialer?.start(node)
  // Set below, once the address book exists: reachability is announced with the addresses.
  let announceSoon = (): void => undefined
  const reachability = new ReachabilityObserver(node, (now) => {
    init.log?.(`reachability: ${now === 'nat' ? 'behind NAT (peers see this host at an address it does not have)' : now}`)
    announceSoon()
  })
  reachability.start()
  const addressBook = new AddressBook(
    {
      peerId: node.peerId,
      reachability: () => reachability.reachability(),
      pubsub: node.services.pubsub,
      peerStore: node.peerStore,
      getMultiaddrs: () => node.getMultiaddrs(),
      getConnections: (peer) => node.getConnections(peer),
      dial: (peer, options) => node.dial(peer, options),
    },
    { announceIntervalMs: tuning.announceIntervalMs, dialTimeoutMs: tuning.dialTimeoutMs },
  )
  addressBook.start()
  announceSoon = () => addressBook.announceSoon()
  reachabilityAnnounced = (peer) => addressBook.reachabilityOf(peer)
  const startedDialView = dialView
  // A new relay reservation adds a circuit address: announce it rather than wait for the interval.
  const onSelfUpdate = (): void => addressBook.announceSoon()
  node.addEventListener('self:peer:update', onSelfUpdate)
  const relayKeeper = new RelayKeeper({
    node,
    listen: node.services.listen,
    self,
    reachability: () => reachability.reachability(),
    reachabilityOf: (peer) => addressBook.reachabilityOf(peer),
    log: init.log ?? (() => undefined),
  })
  relayKeeper.start()
  // Tunnels to a peer linked by a hole punch go on that connection.
  const tunnels = new TunnelLinks(node, init.log ?? (() => undefined), isPunched)
  tunnels.start()
  const relayFailover = new RelayFailover({
    node,
    self: node.peerId.toString(),
    addressesOf: (peer) => addressBook.addressesOf(peer),
    dialTimeoutMs: tuning.dialTimeoutMs,
    log: init.log ?? (() => undefined),
    doubted: (peer) => startedDialView.doubted(peer),
  })
  relayFailover.start()

  const siteMateLinks = new SiteMateLinks({
    node,
    self,
    addressesOf: (peer) => addressBook.addressesOf(peer),
    dialTimeoutMs: tuning.dialTimeoutMs,
    log: init.log ?? (() => undefined),
  })

  const links = new PeerLinks(node, addressBook, isPunched)
  links.start()
  const holePunch = new HolePunch({
    node,
    components: node.services.punch,
    self,
    publicIp: () => reachability.publicIp(),
    request: (peer, body, signal) => sendRequest(node, peer, PUNCH_PROTOCOL, body, { ...PUNCH_LIMITS, openTimeoutMs: tuning.dialTimeoutMs }, signal),
    log: init.log ?? (() => undefined),
    onPunched: () => links.forget(),
  })
  holePunchMade = holePunch
  await node.handle(PUNCH_PROTOCOL, (stream, connection) => serveRequest(stream, connection, (from, body) => holePunch.answer(from, body), PUNCH_LIMITS, IGNORED_COUNTS), { runOnLimitedConnection: true })
  holePunch.start()
  const datagramHeardAt = new Map<string, number>()

  let stopping: Promise<void> | undefined
  return {
    node,
    pubsub: node.services.pubsub,
    peerId: self,
    swarmKeyFingerprint: swarmKey.fingerprint,
    addresses: () => node.getMultiaddrs().map((address) => address.toString()),
    peers: () => uniquePeers(node),
    peerAddress: (peer) => links.of(peer).address,
    connectionFaults: () => connectionFaults,
    crossingConnectionsClosed: () => dialRace.crossingsClosed,
    connectionsOpened: () => dialRace.openedCount,
    heard: (connection) => monitor.heard(connection),
    heardByDatagram: (peer) => {
      // At most once a monitor tick per peer: each hand-off is a pass over every connection.
      const now = performance.now()
      if (now - (datagramHeardAt.get(peer) ?? -Infinity) < tuning.pingTickMs) return
      datagramHeardAt.set(peer, now)
      for (const connection of node.getConnections()) if (connection.remotePeer.toString() === peer) monitor.heardByDatagram(connection)
    },
    listenAddresses: init.listen,
    joinFailures: () => rejoiner.failures(),
    reachability: () => reachability.reachability(),
    reachabilityOf: (peer) => addressBook.reachabilityOf(peer),
    linkTo: (peer) => links.of(peer).link,
    isPunched,
    relays: () => relayKeeper.relays(),
    tunnels,
    moveOffRelay: (peer) => {
      startedDialView.doubt(peer)
      relayFailover.moveOffRelay(peer)
    },
    dropRelay: (peer) => {
      startedDialView.doubt(peer)
      relayFailover.dropRelay(peer)
    },
    memberAlive: (peer) => startedDialView.trust(peer),
    siteMates: (isSiteMate) => siteMateLinks.siteMates(isSiteMate),
    dial: async (target, timeoutMs = tuning.dialTimeoutMs) => {
      const connection = await node.dial(parseAddress(target, 'join'), { signal: AbortSignal.timeout(timeoutMs) })
      return connection.remotePeer.toString()
    },
    stop: () => {
      stopping ??= (async () => {
        rejoiner.stop()
        monitor.stop()
        links.stop()
        duplicates.stop()
        mdnsDialer?.stop()
        addressBook.stop()
        relayKeeper.stop()
        relayFailover.stop()
        siteMateLinks.stop()
        holePunch.stop()
        tunnels.stop()
        reachability.stop()
        startedDialView.stop()
        node.removeEventListener('self:peer:update', onSelfUpdate)
        node.removeEventListener('peer:connect', onConnect)
        await node.stop()
      })()
      return stopping
    },
  }
}

/** A hole punch's two requests: an offer or a go, each way (hole-punch.ts). */
const PUNCH_LIMITS = { maxRequestBytes: PUNCH_MESSAGE_LIMIT_BYTES, maxResponseBytes: PUNCH_MESSAGE_LIMIT_BYTES, timeoutMs: 5_000 }
/** Punch requests are counted by the puncher itself (HolePunch.succeeded, failed). */
const IGNORED_COUNTS = { served: () => undefined, failed: () => undefined }

/**
 * Each peer's address and link kind, kept until a connection opens or closes or an announcement
 * arrives. The agent asks for them after every message it takes in (service discovery's inputs), ~15
 * times a second when idle, and each answer was a pass over every connection: ≈ 5 % of an idle agent's
 * CPU in a cluster of five.
 */
class PeerLinks {
  private readonly facts = new Map<string, { address: string | undefined; link: PeerLink | undefined }>()
  private bookVersion = -1

  constructor(
    private readonly node: HostNode,
    private readonly addressBook: AddressBook,
    private readonly punched: (connection: Connection) => boolean,
  ) {}

  start(): void {
    this.node.addEventListener('connection:open', this.clear)
    this.node.addEventListener('connection:close', this.clear)
  }

  of(peer: string): { address: string | undefined; link: PeerLink | undefined } {
    if (this.bookVersion !== this.addressBook.version) this.clear()
    let facts = this.facts.get(peer)
    if (facts === undefined) {
      facts = { address: peerAddress(this.node, this.addressBook, peer), link: linkTo(this.node.getConnections(), peer, this.punched) }
      this.facts.set(peer, facts)
    }
    return facts
  }

  /** A connection just became a punched one (marked after it opened). */
  forget(): void {
    this.clear()
  }

  stop(): void {
    this.node.removeEventListener('connection:open', this.clear)
    this.node.removeEventListener('connection:close', this.clear)
  }

  private readonly clear = (): void => {
    this.facts.clear()
    this.bookVersion = this.addressBook.version
  }
}

/**
 * Where a peer is reached: the address this peer dialled it at (an outbound connection's remote
 * address is one the peer listens on), else one it announced (not a wildcard), else the source
 * address of its connection to us — which is right between hosts, but between agents sharing one
 * machine is whatever source address the kernel picked (127.0.0.1 for any 127.0.0.x).
 */
function peerAddress(node: HostNode, addressBook: AddressBook, peer: string): string | undefined {
  const open = node.getConnections().filter((connection) => connection.status === 'open' && connection.remotePeer.toString() === peer)
  // A relayed connection's remote address is the relay's: it says nothing of where the peer's tasks listen.
  const dialled = open.find((connection) => connection.direction === 'outbound' && relayOf(connection.remoteAddr.toString()) === undefined)
  const fromDial = dialled === undefined ? undefined : ipOfMultiaddr(dialled.remoteAddr.toString())
  if (fromDial !== undefined) return fromDial
  for (const address of addressBook.addressesOf(peer)) {
    const ip = ipOfMultiaddr(address)
    if (ip !== undefined && ip !== '0.0.0.0' && ip !== '::') return ip
  }
  for (const connection of open) {
    if (relayOf(connection.remoteAddr.toString()) !== undefined) continue
    const ip = ipOfMultiaddr(connection.remoteAddr.toString())
    if (ip !== undefined) return ip
  }
  return undefined
}

function uniquePeers(node: HostNode): string[] {
  const seen = new Set<string>()
  for (const connection of node.getConnections()) {
    if (connection.status === 'open') seen.add(connection.remotePeer.toString())
  }
  return [...seen].sort()
}

/**
 * Redials join addresses that have no open connection. Bootstrap dials once at start, and libp2p's
 * reconnect queue gives up after its retries; a seed that was down longer must still be found.
 *
 * It also says why an address cannot be joined (joinFailures, and the log): without that, an agent
 * given the wrong swarm key runs on alone and silent. One log line per address and reason; the same
 * reason again only every joinReportRepeatMs; nobody answering only after joinUnreachableReportMs
 * (peers of a cluster start in any order); and one line when the address answers again after a
 * failure was logged.
 */
class Rejoiner {
  private timer: NodeJS.Timeout | undefined
  private readonly inFlight = new Set<string>()
  /** The peer id behind each join address, learned on the first successful dial when the address has none. */
  private readonly learned = new Map<string, string>()
  private readonly failing = new Map<string, FailureState>()
  /** When a handshake last started on an outbound connection to each join address (without /p2p/). */
  private readonly handshakes = new Map<string, number>()
  private readonly bareJoin: ReadonlySet<string>
  /** Dials still in flight when the host stops fail for that reason alone: not worth a line. */
  private stopped = false
  /** Join addresses found to be this host's own (without /p2p/): never dialled, never asked again. */
  private readonly own = new Set<string>()

  constructor(
    private readonly node: HostNode,
    private readonly join: readonly Multiaddr[],
    private readonly self: string,
    private readonly tuning: HostTuning,
    private readonly log: (line: string) => void,
  ) {
    this.bareJoin = new Set(join.map((address) => withoutPeerId(address.toString())))
  }

  /** The TCP connection to `remote` is up and its handshake starts (the pnet protector says so). */
  handshakeStarted(remote: string): void {
    const bare = withoutPeerId(remote)
    if (this.bareJoin.has(bare)) this.handshakes.set(bare, performance.now())
  }

  start(): void {
    if (this.join.length === 0) return
    // At once for addresses bootstrap does not cover (no /p2p/ id); then on the interval for all.
    this.tick(false)
    this.timer = setInterval(() => this.tick(true), this.tuning.rejoinIntervalMs)
    this.timer.unref()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  failures(): JoinFailure[] {
    return this.join.flatMap((address) => {
      const state = this.failing.get(address.toString())
      if (state === undefined) return []
      const { since, lastAttempt, attempts, kind, reason } = state
      return [{ address: address.toString(), since, lastAttempt, attempts, kind, reason }]
    })
  }

  /** A join list shared by every peer names each peer itself too: do not dial our own listen address. */
  private isOwnAddress(address: Multiaddr): boolean {
    const bare = withoutPeerId(address.toString())
    if (this.own.has(bare)) return true
    const own = this.node.getMultiaddrs().some((mine) => withoutPeerId(mine.toString()) === bare)
    if (own) this.own.add(bare)
    return own
  }

  private tick(all: boolean): void {
    // Asked once a tick, and the connected ones first: own addresses are a pass over every listen
    // address, and in a settled cluster every join address but this host's own is connected.
    let connected: Set<string> | undefined
    const isConnected = (id: string): boolean =>
      (connected ??= new Set(this.node.getConnections().filter((c) => c.status === 'open').map((c) => c.remotePeer.toString()))).has(id)
    for (const address of this.join) {
      const key = address.toString()
      const id = peerIdOf(address) ?? this.learned.get(key)
      if (!all && peerIdOf(address) !== undefined) continue
      if (id === this.self || this.inFlight.has(key)) continue
      if (id !== undefined && isConnected(id)) {
        this.succeeded(key) // the peer dialled us, or another of its addresses answered
        continue
      }
      if (this.isOwnAddress(address)) continue
      this.inFlight.add(key)
      const dialledAt = performance.now()
      // Once the address has answered, it is dialled as that peer: libp2p then joins this dial to its
      // own redial of the peer (reconnect queue, a direct send) instead of making a second one. After
      // a partition healed, each side had both in flight to every peer of the other side, and every
      // pair handshook up to four connections at once. An address now held by another peer (a host
      // reinstalled with a new key) fails as an unexpected peer: the id is forgotten, and the next
      // dial is to the bare address again.
      const learnedId = peerIdOf(address) === undefined ? this.learned.get(key) : undefined
      const target = learnedId === undefined ? address : address.encapsulate(`/p2p/${learnedId}`)
      this.node
        .dial(target, { signal: AbortSignal.timeout(this.tuning.dialTimeoutMs) })
        .then(
          (connection) => {
            this.learned.set(key, connection.remotePeer.toString())
            this.succeeded(key)
          },
          // Tried again next interval.
          (error: unknown) => {
            const handshakeStarted = (this.handshakes.get(withoutPeerId(key)) ?? -Infinity) >= dialledAt
            // Not the operator's address that is wrong but what was learned from it: no line about it.
            if (learnedId !== undefined && describeDialFailure(error, this.tuning.dialTimeoutMs, handshakeStarted).kind === 'wrong-peer') this.learned.delete(key)
            else this.failed(key, error, handshakeStarted)
          },
        )
        .finally(() => this.inFlight.delete(key))
    }
  }

  private succeeded(key: string): void {
    const state = this.failing.get(key)
    if (state === undefined) return
    this.failing.delete(key)
    if (state.logged !== undefined) this.log(`joined ${joinLabel(key)} after failing for ${seconds(Date.now() - state.since)}`)
  }

  private failed(key: string, error: unknown, handshakeStarted: boolean): void {
    if (this.stopped) return
    const now = Date.now()
    const { kind, reason } = describeDialFailure(error, this.tuning.dialTimeoutMs, handshakeStarted)
    const state = this.failing.get(key) ?? { since: now, lastAttempt: now, attempts: 0, kind, reason, logged: undefined }
    state.lastAttempt = now
    state.attempts++
    state.kind = kind
    state.reason = reason
    this.failing.set(key, state)
    if (kind === 'unreachable' && now - state.since < this.tuning.joinUnreachableReportMs) return
    if (state.logged?.reason === reason && now - state.logged.at < this.tuning.joinReportRepeatMs) return
    const repeat = state.logged?.reason === reason || state.attempts > 1
    state.logged = { reason, at: now }
    this.log(`cannot join ${joinLabel(key)}: ${reason}${repeat ? ` (failing for ${seconds(now - state.since)}, ${state.attempts} attempts)` : ''}`)
  }
}

interface FailureState {
  readonly since: number
  lastAttempt: number
  attempts: number
  kind: JoinFailureKind
  reason: string
  /** The reason last logged, and when; undefined while nothing was. */
  logged: { readonly reason: string; readonly at: number } | undefined
}

/**
 * Why one dial failed, in words a person can act on. `handshakeStarted`: the TCP connection was up
 * and its handshake had begun, so a timeout means the other end did not finish it (a peer with another
 * key usually resets the connection when its own upgrade times out, but may simply stay silent).
 */
export function describeDialFailure(error: unknown, timeoutMs: number, handshakeStarted = false): { kind: JoinFailureKind; reason: string } {
  const causes: unknown[] = []
  for (let cause = error; cause !== undefined && cause !== null && causes.length < 8; cause = (cause as { cause?: unknown }).cause) causes.push(cause)
  const named = (name: string) => causes.find((cause): cause is Error => cause instanceof Error && cause.name === name)
  const code = causes.map((cause) => (cause as { code?: unknown }).code).find((c) => typeof c === 'string')
  const encryption = named('EncryptionFailedError')
  const otherPeer = /Payload identity key (\S+) does not match expected remote identity key (\S+)/.exec(encryption?.message ?? '')
  if (otherPeer !== null) return { kind: 'wrong-peer', reason: `the peer there is ${otherPeer[1]}, not ${otherPeer[2]} as the address says` }
  // pnet's nonce exchange cut short (UnexpectedEOFError), or Noise failing on bytes that decrypt to noise.
  if (encryption !== undefined || named('UnexpectedEOFError') !== undefined) return { kind: 'handshake', reason: 'pre-shared key mismatch or not a peer' }
  if (code === 'ECONNREFUSED') return { kind: 'unreachable', reason: 'connection refused (nothing listens there)' }
  if (named('TimeoutError') !== undefined || named('AbortError') !== undefined) {
    // A peer with another key resets the connection when its own upgrade times out (upgradeTimeoutMs,
    // shorter than our dial's), which fails above; a dial that times out mid-handshake mostly met a
    // peer too busy to finish it (a heal's burst of dials on a loaded host), which once read here as a
    // key mismatch and sent operators checking keys that were right.
    if (handshakeStarted) return { kind: 'handshake', reason: `handshake not finished within ${seconds(timeoutMs)} (a busy peer, or another swarm key)` }
    return { kind: 'unreachable', reason: `no answer within ${seconds(timeoutMs)}` }
  }
  return { kind: 'unreachable', reason: messageOf(error) }
}

function withoutPeerId(address: string): string {
  return address.replace(/\/p2p\/[^/]+$/, '')
}

function seconds(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1_000)} s` : `${Math.round(ms / 60_000)} min`
}

/** The mDNS service this cluster's peers announce and ask for: this product's name and the swarm key's fingerprint. */
export function mdnsServiceTag(fingerprint: string): string {
  return `_peer-${fingerprint}._udp.local`
}

/** Dials in flight at once for mDNS finds; more finds wait for the next answer (a flood of fake answers costs little). */
const MDNS_MAX_DIALS = 8
/** Peers whose failed dials are remembered for backoff; beyond this the oldest are forgotten. */
const MDNS_MAX_TRACKED = 1_024

/**
 * Dials the peers mDNS finds. mDNS reports a peer on every answer it hears (every peer answers every
 * query, every mdnsQueryIntervalMs), so this also finds a peer again after libp2p's reconnect gave up
 * on it. Peers already connected or being dialled are skipped; a failed dial (another swarm key fails
 * pnet, a stale address) is silent and not retried before a backoff that doubles with each failure.
 * A successful connection is tagged KEEP_ALIVE by createHost's peer:connect listener, like any other.
 */
class MdnsDialer {
  private node: HostNode | undefined
  private stopped = false
  /** Finds heard before the node finished starting, dialled once it has. */
  private readonly early = new Map<string, PeerInfo>()
  private readonly inFlight = new Set<string>()
  private readonly failures = new Map<string, { count: number; retryAt: number }>()

  constructor(private readonly tuning: HostTuning) {}

  start(node: HostNode): void {
    this.node = node
    for (const info of this.early.values()) this.found(info)
    this.early.clear()
  }

  stop(): void {
    this.stopped = true
    this.early.clear()
  }

  found(info: PeerInfo): void {
    if (this.stopped) return
    const id = info.id.toString()
    const node = this.node
    if (node === undefined) {
      if (this.early.size < MDNS_MAX_DIALS) this.early.set(id, info)
      return
    }
    if (id === node.peerId.toString() || this.inFlight.has(id) || this.inFlight.size >= MDNS_MAX_DIALS) return
    if ((this.failures.get(id)?.retryAt ?? 0) > Date.now()) return
    if (node.getConnections(info.id).some((connection) => connection.status === 'open')) return
    const addresses = info.multiaddrs.map((address) => (peerIdOf(address) === undefined ? address.encapsulate(`/p2p/${id}`) : address))
    if (addresses.length === 0) return
    this.inFlight.add(id)
    node
      .dial(addresses, { signal: AbortSignal.timeout(this.tuning.dialTimeoutMs) })
      .then(
        () => this.failures.delete(id),
        () => this.failed(id),
      )
      .finally(() => this.inFlight.delete(id))
  }

  private failed(id: string): void {
    const count = (this.failures.get(id)?.count ?? 0) + 1
    const wait = Math.min(this.tuning.mdnsRedialMinMs * 2 ** Math.min(count - 1, 30), this.tuning.mdnsRedialMaxMs)
    this.failures.delete(id) // re-inserted last: the map's order is oldest first
    this.failures.set(id, { count, retryAt: Date.now() + wait })
    if (this.failures.size > MDNS_MAX_TRACKED) {
      const oldest = this.failures.keys().next().value
      if (oldest !== undefined) this.failures.delete(oldest)
    }
  }
}

function resolveSwarmKey(value: HostInit['swarmKey']): SwarmKey {
  if (value === undefined) {
    throw new SetupError('no-swarm-key', 'a swarm key is required: peers only connect through a private network (pnet) key')
  }
  if (typeof value === 'string' || value instanceof Uint8Array) {
    const parsed = parseSwarmKey(value)
    if (!parsed.ok) throw new SetupError('swarm-key-invalid', `the swarm key is malformed: ${parsed.message}`)
    return parsed.key
  }
  return value
}

async function resolvePrivateKey(init: HostInit): Promise<PrivateKey> {
  if (init.privateKey !== undefined) return init.privateKey
  if (init.dataDir !== undefined) return (await loadOrCreateIdentity(init.dataDir)).privateKey
  throw new SetupError('no-identity', 'a data directory (or a private key) is required to give the peer a stable id')
}

/** The peer id a multiaddr names (its last /p2p/ component), if any. */
function peerIdOf(address: Multiaddr): string | undefined {
  return address.getComponents().findLast((component) => component.code === CODE_P2P)?.value
}

function parseAddress(text: string, what: 'listen' | 'join'): Multiaddr {
  try {
    return multiaddr(text)
  } catch (error) {
    const reason = messageOf(error)
    throw new SetupError('bad-address', `${what} address ${JSON.stringify(text)} is not a multiaddr (e.g. /ip4/10.0.0.2/tcp/4001): ${reason}`)
  }
}
