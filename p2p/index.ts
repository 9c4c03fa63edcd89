// The libp2p layer's public face: a host (a started, pnet-protected libp2p node), the peer's key and
// the swarm key on disk, and the transport that carries the machine's messages and sync round trips.
import './polyfill.js'

export { ADDRESS_TOPIC, parseAnnouncement } from './address-book.js'
export { DIRECT_PROTOCOL, HOST_DEFAULTS, PROTOCOL_TOPIC, TRANSPORT_DEFAULTS } from './config.js'
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
export { createHost, mdnsServiceTag, type Host, type HostInit, type HostNode, type HostTuning } from './host.js'
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
