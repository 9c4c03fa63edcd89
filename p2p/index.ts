// The libp2p layer's public face: a host (a started, pnet-protected libp2p node), the peer's key and
// the swarm key on disk, the transport that carries the machine's messages and sync round trips, and
// the protocol ids and topics every layer speaks (protocols.ts).
import './polyfill.js'

export { AddressBook, parseAnnouncement, parseAnnouncementBody, type Announcement, type AddressBookComponents, type AddressBookTuning } from './address-book.js'
export { HOST_DEFAULTS, RELAY_DEFAULTS, TRANSPORT_DEFAULTS, TUNNEL_DEFAULTS } from './config.js'
export { ADDRESS_TOPIC, DESIRED_SYNC_PROTOCOL, DESIRED_TOPIC, DIRECT_PROTOCOL, EXEC_PROTOCOL, LOGS_PROTOCOL, PROTOCOL_TOPIC, TUNNEL_PROTOCOL } from './protocols.js'
export { SetupError, type SetupErrorCode } from './errors.js'
export { IDENTITY_FILE, identityFromSeed, loadOrCreateIdentity, type Identity } from './identity.js'
export {
  createSwarmKeyFile,
  generateSwarmKey,
  parseSwarmKey,
  readSwarmKeyFile,
  swarmKeyFromBytes,
  SWARM_KEY_BYTES,
  type SwarmKey,
  type SwarmKeyProblem,
  type SwarmKeyResult,
} from './swarm-key.js'
export { createHost, describeDialFailure, mdnsServiceTag, type Host, type HostInit, type HostNode, type HostTuning, type JoinFailure, type JoinFailureKind } from './host.js'
export { joinLabel } from './join-label.js'
export { ipOfMultiaddr } from './multiaddr-ip.js'
export { RequestError, type RequestErrorCode, type RequestHandler, type RequestLimits } from './request.js'
export {
  P2pTransport,
  type BroadcastResult,
  type InvalidMessage,
  type P2pTransportInit,
  type SendResult,
  type TransportError,
  type TransportErrorCode,
  type TransportStats,
  type TransportTuning,
} from './transport.js'
export { countGossipTraffic, type GossipTraffic, type TopicTraffic } from './gossip-traffic.js'
export { linkTo, relayOf, ReachabilityObserver, relayServerOptions, type PeerLink, type Reachability } from './nat.js'
export { FailureLog } from './failure-log.js'
export { circuitAddressOf, hasTunnelBudget, isTunnelConnection, markTunnelConnection, TunnelLinks } from './tunnel-links.js'
export { encodeFrame } from './frames.js'
