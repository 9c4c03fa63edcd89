// Every libp2p protocol id and gossip topic a peer speaks, in one place: its whole vocabulary on the
// wire besides libp2p's own (identify, ping, gossipsub's control messages). The `1` in each is the
// wire version: a payload an older peer would misread needs a new id, not a new meaning for this one.
//
// p2p/ moves the bytes and gives them no meaning, so each payload's codec lives with the layer that
// reads it (core/, crdt/, node/agent/). Each id below names that codec and the limit its payload is
// held to; p2p/ may not import crdt/ or node/, so the limits are named rather than imported, and
// test/p2p/protocols.test.ts checks that the numbers still fit together.

/**
 * Gossip topic: the machine's broadcasts (member records and adverts). Payload: core/protocol/codec.ts
 * (encodeMessage, decodeMessage), checked in the topic validator of p2p/transport.ts. Limit:
 * TRANSPORT_DEFAULTS.maxGossipBytes, an advert's own wire limit (WIRE_LIMITS.maxBytes.advert, 1 MiB).
 */
export const PROTOCOL_TOPIC = '/peer/1/protocol'

/**
 * Stream protocol: the machine's point-to-point messages (probes, bids, digests, states) on one
 * long-lived stream per peer, in varint-length frames (p2p/frames.ts). Payload: core/protocol/codec.ts.
 * Limit: TRANSPORT_DEFAULTS.maxDirectFrameBytes a frame, the codec's largest message
 * (WIRE_LIMITS.maxMessageBytes, 20 MiB).
 */
export const DIRECT_PROTOCOL = '/peer/1/direct'

/**
 * Request protocol: the key exchange of the datagram path (p2p/datagrams.ts). Request and answer are
 * each an offer of 42 bytes — the UDP port (2), a key id (8) and a key (32) the other is to seal its
 * datagrams with — or an empty answer when the server has no direct path to the asker.
 */
export const DATAGRAM_KEY_PROTOCOL = '/peer/1/datagram-key'

/**
 * Gossip topic: each peer's signed listen addresses, JSON `{"addresses": [multiaddr, …]}`. Payload:
 * p2p/address-book.ts (parseAnnouncement). Limit: 16 KiB, at most 32 addresses of 256 characters.
 */
export const ADDRESS_TOPIC = '/peer/1/addresses'

/**
 * Gossip topic: new desired-state changes, the fast path. Payload: crdt/broadcast.ts (encodeBroadcast,
 * decodeBroadcast), published and validated by node/agent/desired-replica.ts. Limit:
 * BROADCAST_LIMIT_BYTES (64 KiB); a larger change is not gossiped and reaches others by sync.
 */
export const DESIRED_TOPIC = '/peer/1/desired'

/**
 * Request/response (p2p/request.ts): one round of the Automerge sync protocol, the desired state's
 * anti-entropy. Request: an 8-byte session id, then a crdt/sync.ts payload or nothing; response: a
 * crdt/sync.ts payload or nothing; node/agent/desired-replica.ts keeps the sessions. Limit:
 * SYNC_LIMIT_BYTES (32 MiB) a payload, inside the transport's maxRequestBytes and maxResponseBytes.
 */
export const DESIRED_SYNC_PROTOCOL = '/peer/1/desired-sync'

/**
 * Request/response (p2p/request.ts): a page of a task's output, for `peer logs` asked of a peer that
 * does not run the task. Payload: JSON, node/agent/logs.ts (request `{slot, tailLines?, after?}`,
 * answer `{lines, next, ended}`). Limit: the transport's maxRequestBytes and maxResponseBytes
 * (32 MiB + 1 KiB); an answer holds at most LOGS_DEFAULTS.pageLines lines.
 */
export const LOGS_PROTOCOL = '/peer/1/logs'

/**
 * Request/response (p2p/request.ts): run a command in a task's container, for `peer exec` asked of a
 * peer that does not run the task. Payload: JSON, node/agent/exec.ts (request `{slot, command,
 * timeoutMs}`, answer an ExecAnswer or `{error, status}`). Limits: a request of at most
 * EXEC_DEFAULTS.maxArguments items; an answer of at most EXEC_DEFAULTS.maxOutputBytes of output.
 */
export const EXEC_PROTOCOL = '/peer/1/exec'

/**
 * Stream protocol: one TCP connection of a service carried to the peer that runs its task, when this
 * peer reaches that peer only through a relay or a hole-punched connection (node/discovery/tunnel/).
 * Runs on a relayed connection of its own (p2p/tunnel-links.ts), or on the punched one. On the wire:
 * the opener writes one varint-length frame, JSON `{"slot", "port"}` (the task and the host port it bound); the answer is one frame whose first
 * byte is 0 (accepted) or 1 (refused, then a UTF-8 reason); after an accept, raw bytes both ways,
 * each side's end of writing passed on as a half-close. Limit: TUNNEL_HEADER_LIMIT_BYTES for either
 * frame (node/discovery/tunnel/header.ts).
 */
export const TUNNEL_PROTOCOL = '/peer/1/tunnel'

/**
 * Request/response (p2p/request.ts) over a relayed link: a hole punch's exchange (p2p/hole-punch.ts).
 * Payload: JSON, p2p/hole-punch.ts (parsePunchMessage): `{"offer": {"ip", "port"}}`, answered with the
 * other end's own offer (or an error: not behind NAT, no mapping known); then `{"go": true}`, answered
 * empty, at which both ends dial. Limit: PUNCH_MESSAGE_LIMIT_BYTES (256, p2p/hole-punch.ts) either way.
 */
export const PUNCH_PROTOCOL = '/peer/1/punch'
