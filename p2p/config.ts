// Every knob of the libp2p layer with its default, why that value, and what moving it costs. The
// numbers were measured on loopback and a 2-core machine (see bench/p2p-latency.ts); a WAN or
// slow edge links want the liveness timeouts scaled up with the round-trip time.

import { WIRE_LIMITS } from '../core/index.js'

const KiB = 1024
const MiB = 1024 * KiB

export const HOST_DEFAULTS = {
  /**
   * The connection monitor (connection-monitor.ts) pings a connection nothing has been heard on for
   * this long, and aborts it when the ping times out: that is what turns a silently dead host (power
   * cut, cable pulled, frozen) into a disconnect; a killed process's sockets are closed by its kernel
   * at once and need no ping. libp2p's 10 s default left dead connections open for 15 s or more.
   * Failure detection is SWIM's job (a peer is declared dead 2 s after it stops answering, whatever
   * its connections do), so this only needs to be prompt, not fast. A direct frame read off a
   * connection counts as hearing from it, so between members, which probe each other several times
   * a second in all, pings are rare; each ping is a new stream (multistream-select, Noise framing),
   * and libp2p's monitor, which pinged every connection every interval, was ≈ 6 % of an idle
   * agent's CPU in a cluster of five and a third of its socket writes.
   */
  pingIntervalMs: 2_000,
  /**
   * The same for a connection whose peer's probes come by datagram (p2p/datagrams.ts) and so no
   * longer cross it: the datagrams prove the peer alive, and this ping only proves the connection
   * (a NAT or middlebox may drop an idle one's state while its datagrams pass). Long enough to be
   * rare, short enough to keep a NAT's TCP mapping of a few minutes alive.
   */
  pingIntervalWithDatagramsMs: 15_000,
  /**
   * The same for a relayed connection (a circuit through another peer): its hops are connections of
   * their own, pinged by this rule at both ends, and the relay aborts the circuit once either hop
   * closes, so a dead hop ends the circuit as soon as a ping of the circuit would have. What this
   * ping alone would catch is a relay that keeps both hops but lost the circuit: rare, so rare pings.
   */
  pingIntervalRelayedMs: 30_000,
  /**
   * The same for a hole-punched connection between two sites: probes cross it rarely (a far site is
   * probed as a whole), so at pingIntervalMs it was pinged every 2–2.5 s and the pings doubled an
   * idle site link's bytes; it is direct, so its own pings are what find it dead and keep both
   * routers' mappings alive: as often as a connection whose peer's datagrams arrive.
   */
  pingIntervalPunchedMs: 15_000,
  /**
   * How often the monitor looks for quiet connections. A connection that falls silent is pinged
   * within pingIntervalMs + this; a tick only compares timestamps.
   */
  pingTickMs: 500,
  /**
   * Bounds of the adaptive ping timeout. The floor must stay above the worst stall of a loaded host,
   * or healthy connections get aborted, redialled (a Noise handshake) and resynced, which loads the
   * host further: with a 1 s floor, ten agents on a 2-core host placing 100 replicas reopened 96 of
   * their 45 connections in 10 s. The ceiling caps how long a dead connection survives: interval + tick + max.
   */
  pingTimeoutMinMs: 5_000,
  pingTimeoutMaxMs: 10_000,
  /**
   * Peers tagged KEEP_ALIVE are redialled after a drop: first at once, then after this interval,
   * growing by reconnectBackoffFactor, reconnectRetries times; libp2p then drops the tag. 500 ms ×
   * 2^k over 8 retries covers ≈ 2 min (a reboot); the join list is redialled forever on top
   * (rejoinIntervalMs), so a seed peer that comes back later is always found again.
   */
  reconnectRetryIntervalMs: 500,
  reconnectBackoffFactor: 2,
  reconnectRetries: 8,
  /**
   * Each peer re-publishes its listen addresses this often, so peers that missed an announcement still
   * learn where to dial. It is a backstop: a peer also announces whenever a new neighbour subscribes
   * (not one reconnecting), when its reachability changes and when it gains a relay address, which is what
   * makes a cluster joined through one seed a full mesh. Cost: one signed message per peer per
   * interval, which every other peer receives from its author and again from each neighbour that
   * forwards it (and verifies the first copy): at 10 s, 1.6 gossip messages sent and 1.6 received a
   * second per agent in a cluster of five, against ≈ 7 each of direct messages.
   */
  announceIntervalMs: 60_000,
  /** How often join addresses without a live connection are dialled again. */
  rejoinIntervalMs: 2_000,
  /**
   * A join address whose dials keep failing for the same reason is logged once, then again only
   * after this long (the redial goes on every rejoinIntervalMs). A new reason is logged at once.
   */
  joinReportRepeatMs: 60_000,
  /**
   * A join address nobody answers on (refused, timed out) is normal while a cluster starts, its
   * peers in any order: it is logged only once it has failed for this long. A handshake failure (a
   * wrong swarm key, or not a peer) is logged at the first attempt.
   */
  joinUnreachableReportMs: 30_000,
  /** One dial attempt (TCP connect + pnet + Noise + Yamux) on loopback or LAN takes ms; 5 s is slack for a loaded host. */
  dialTimeoutMs: 5_000,
  /**
   * An inbound connection must finish its upgrade (pnet, Noise, Yamux) within this. A dialler with
   * the wrong swarm key sends bytes that decrypt to noise; the listener's protocol negotiation may
   * wait for a newline that never comes, holding one of its few pending-upgrade slots (10) until
   * this timeout — libp2p's default is 10 s. Upgrades take milliseconds on a LAN.
   */
  upgradeTimeoutMs: 3_000,
  /**
   * The pnet nonce exchange must finish within this. libp2p's 1 s default is tight for a host
   * that is starting several peers at once on 2 cores.
   */
  pnetTimeoutMs: 3_000,
  /**
   * libp2p refuses more than this many inbound connections per second from one IP address (its
   * default is 5). Peers sharing a host (tests, network namespaces behind one NAT address) reconnect
   * all at once after a restart, so this is raised; pnet already keeps strangers out.
   */
  inboundConnectionsPerSecondPerHost: 100,
  /** Connections kept before pruning. A full mesh of N peers holds N-1 (twice briefly after simultaneous redials). */
  maxConnections: 512,
  /**
   * Once every connection to a peer has been open this long, the end whose id sorts first closes
   * all but one, direct before relayed, then the oldest (duplicate-connections.ts): long enough for
   * both connections' upgrade and identify to finish, and short next to an idle cluster's life.
   * Cost: two connections for this long after two peers dialled each other at once.
   */
  duplicateSettleMs: 5_000,
  /**
   * With mDNS on (HostInit.mdns) each peer asks the LAN for its cluster's peers at start and then
   * this often, and every peer on the same service tag answers. A new peer finds the others with its
   * first query at start, so this only limits how soon a peer is found again after libp2p's
   * reconnect gave up on it. Cost: one multicast query per peer per interval and one answer per peer
   * per query, so N² small UDP packets per interval on the LAN (libp2p's default, 10 s).
   */
  mdnsQueryIntervalMs: 10_000,
  /**
   * After a failed dial to a peer that mDNS found, that peer is not dialled again for this long,
   * doubling with each further failure up to mdnsRedialMaxMs. A peer answering on our service tag
   * with a different swarm key (a colliding fingerprint, or a stale answer) fails pnet every time,
   * and mDNS reports it again with every answer it hears; without the backoff each answer would cost a dial.
   */
  mdnsRedialMinMs: 10_000,
  mdnsRedialMaxMs: 300_000,
} as const

export const TRANSPORT_DEFAULTS = {
  /**
   * Largest message published on gossip. Gossipsub silently drops RPCs over 4 MiB (publish still
   * resolves), so anything near that must go over a direct stream. The machine broadcasts only
   * member records and adverts, and an advert's own wire limit is this size.
   */
  maxGossipBytes: WIRE_LIMITS.maxBytes.advert,
  /** Largest direct frame, either way: the largest message the codec accepts (a full state or digest). */
  maxDirectFrameBytes: WIRE_LIMITS.maxMessageBytes,
  /**
   * Bytes queued for one peer's direct stream before further sends to it are dropped (and
   * counted). SWIM and anti-entropy tolerate loss; unbounded queues to a stalled peer do not.
   * Three maximal state messages fit.
   */
  maxQueuedBytesPerPeer: 64 * MiB,
  /** Opening a stream to a peer, including dialling it when not connected. */
  openTimeoutMs: 5_000,
  /**
   * After a failed dial, direct messages to that peer fail at once for this long. The machine's
   * probes already treat silence as failure; waiting openTimeoutMs per queued message would not
   * tell it more, only later. Short, so a restarted peer is reached again within a probe or two.
   */
  dialBackoffMs: 1_000,
  /**
   * At first contact with a peer, the side with the larger peer id waits this long for the other's
   * connection before dialling itself. Two peers usually learn of each other at the same moment
   * (from the same gossip) and both dial: every such pair then kept two connections, and each
   * connection's costs (monitor pings, keep-alives, buffers, a relay circuit between sites) were paid
   * twice — four pairs in six among hosts that joined through one seed. The smaller side dials at
   * once; the wait ends as soon as its connection opens. Cost: the larger side's first message to a
   * peer that does not dial it goes out this much later, once per peer.
   */
  firstContactWaitMs: 250,
  /**
   * A dial pending this long when the peer's own connection arrives is a stale one (begun while the
   * link was down, waiting on a SYN retransmission) and gives way to the peer's connection whatever
   * the ids; a younger one races the peer's dial, and only the larger id's yields (transport.ts).
   */
  staleDialMs: 500,
  /** Writing one frame once the stream is open (a 20 MiB state over a slow link needs the room). */
  writeTimeoutMs: 30_000,
  /**
   * One request/response round trip (desired-state sync): dial, write, remote handler, read.
   * Automerge sync of a large document takes tens of ms per round; 30 s is a hang detector.
   */
  requestTimeoutMs: 30_000,
  /** Request and response bodies: the CRDT's sync limit (32 MiB) with room for the status byte. */
  maxRequestBytes: 32 * MiB + 1 * KiB,
  maxResponseBytes: 32 * MiB + 1 * KiB,
  /** Concurrent inbound direct streams per connection (libp2p's default is 32). */
  maxInboundDirectStreams: 64,
  /** Undeliverable direct messages to one peer are logged at most once per this interval (p2p/failure-log.ts). */
  failureLogIntervalMs: 30_000,
  maxOutboundDirectStreams: 64,
} as const

/**
 * The circuit relay every peer offers to peers behind NAT, and what a peer behind NAT asks of relays
 * (nat.ts, docs/edge.md). Only holders of the swarm key can reach a relay at all, so these bound
 * what one runaway peer can make a relay do, not what strangers can.
 */
export const RELAY_DEFAULTS = {
  /**
   * Reservations a relay holds at once: one per peer behind NAT that chose it. Each costs a few KB of
   * state and nothing more until a circuit opens. A cluster of tens of sites fits; past this a peer
   * behind NAT is refused and tries the next public peer.
   */
  maxReservations: 64,
  /**
   * Circuits (relayed connections) one relay carries at once. Between two peers behind NAT there is
   * one (two briefly after simultaneous redials), so this covers a full mesh of about 45 peers behind NAT.
   */
  maxCircuits: 1_024,
  /**
   * Bytes one circuit may carry (both ways together) before the relay resets it; the two peers then
   * open a new one at once (they keep each other KEEP_ALIVE). Not a quota on a peer, a bound on what
   * one circuit can make a relay forward without anyone noticing. Idle traffic between two agents is
   * a few hundred bytes per second; a full desired-state sync of a large cluster is a few MB: 64 MiB
   * is many minutes of normal traffic and any single exchange the agent makes.
   */
  circuitDataLimitBytes: 64 * 1024 * 1024,
  /** How long a circuit lives before the relay resets it (then reopened at once, as above). */
  circuitDurationLimitMs: 30 * 60_000,
  /** Relays a peer behind NAT keeps a reservation on: two, so losing one leaves the other. */
  reservations: 2,
  /** How often a peer behind NAT checks that it holds its reservations, and makes the missing ones. */
  reserveIntervalMs: 2_000,
} as const

/**
 * Service traffic carried to a peer that is reached only through a relay (p2p/tunnel-links.ts,
 * docs/edge.md "Service traffic across sites"). It runs on a relayed connection of its own, never on
 * the one membership, gossip and bids use: the relay's per-circuit data limit (RELAY_DEFAULTS) then
 * ends tunnels, not the control connection.
 */
export const TUNNEL_DEFAULTS = {
  /**
   * A tunnel connection takes no new tunnel once less than this share of its circuit's data limit is
   * left; the next tunnel opens a fresh circuit. Connections already on it keep it until the relay
   * resets it, so each tunnelled connection can count on at least this share (32 MiB at the default
   * limit) of the circuit's budget.
   */
  minBudgetShare: 0.5,
  /** A tunnel connection with no tunnel on it for this long is closed (a circuit held open costs the relay a slot). */
  idleCloseMs: 30_000,
  /** How long opening a tunnel (a circuit if none is usable, the stream, the far agent's answer) may take. */
  openTimeoutMs: 5_000,
  /** Tunnels one agent serves at once, for every peer together: past this a new one is refused. */
  maxServed: 1_024,
  /**
   * The most a yamux stream may have in flight (its receive window never grows past this; yamux's own
   * ceiling is 16 MiB). A tunnel shares the TCP connection to the relay with the control connection's
   * circuit and with the agent's own link to the relay, and a relay reads every circuit without
   * backpressure (libp2p's createLimitedRelay pipes into an unbounded queue), so a stream's window is
   * all that bounds how many bytes sit ahead of a ping or a bid: with 16 MiB a bulk tunnel at 1 MiB/s
   * held pings back > 5 s and the connection monitor cut the link to the relay, every circuit with it.
   * 256 KiB, yamux's initial window, bounds that wait to 256 KiB per busy stream (a quarter second at
   * 1 MiB/s), and a stream's throughput to 256 KiB per round trip (25 MB/s at 10 ms, 2.5 MB/s at 100 ms).
   */
  streamWindowBytes: 256 * KiB,
} as const
