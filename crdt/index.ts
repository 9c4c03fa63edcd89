// The desired-state document: its schema and genesis, the operations the agent and CLI call, what it
// materialises to, and how it is persisted and moved between peers. docs/desired-state.md describes
// the format and the guarantees.

export { DOCUMENT_LIMITS, SCHEMA_VERSION, type DesiredDoc, type DesiredStateDocument, type VersionAction } from './schema.js'
export { GENESIS_ACTOR, genesisDocumentBytes, genesisHeads, newDocument, newProcessNonce, peerActor, PROCESS_NONCE_BYTES } from './genesis.js'
export { describeError, type DesiredStateError, type EditResult } from './errors.js'
export { apply, remove, revert, scale, type ServiceOutcome, type ServiceOutcomeKind } from './services.js'
export { cordon, drain, readPeerSettings, setPeerLabels, uncordon, type PeerSettings } from './peers.js'
export {
  CLUSTER_KEY_BYTES, clusterKeyId, readSecret, readSecretInfo, removeSecret, SECRET_NAME_PATTERN, secretHolds, secretNames, setSecret, type SecretInfo, type SecretOptions,
} from './secrets.js'
export { history, lastVersionOtherThan, type HistoryEntry } from './history.js'
export type { VersionRecord } from './versions.js'
export type { ServiceVersion } from './version-graph.js'
export { parseVersionRef, VERSION_ID_SEPARATOR, type VersionRef } from './version-ids.js'
export { desiredState, serviceState, type DesiredState, type InvalidService, type ServiceState } from './materialise.js'
export { conflicts, type FieldConflict } from './conflicts.js'
export { checkSpec, type SpecCheck } from './spec-check.js'
export { digestOfHeads, heads, headsDigest, sameHeads } from './heads.js'
export { payloadKind, type PayloadError } from './payload.js'
export { BROADCAST_LIMIT_BYTES, decodeBroadcast, encodeBroadcast, receiveChanges, type EncodedBroadcast, type ReceivedChanges } from './broadcast.js'
export { generateSync, newSyncState, receiveSync, SYNC_LIMIT_BYTES, type ReceivedSync, type SyncState } from './sync.js'
export { REBUILD_BATCH_BYTES, rebuildDocument } from './rebuild.js'
export { DEFAULT_COMPACT_AFTER_LOG_BYTES, DesiredStateStore, LOG_FILE, openStore, SNAPSHOT_FILE, type OpenedStore, type StoreInit, type StoreWarning } from './store.js'
