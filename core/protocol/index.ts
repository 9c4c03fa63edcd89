export {
  defaultConfig,
  type LinkProfiles,
  type LinkTimes,
  type MachineConfig,
  type NetworkProfile,
  bidWindowMs,
  suspicionTimeoutMs,
  withProcessingSkew,
} from './config.js'
export {
  type Advert,
  type MemberRecord,
  type MemberStatus,
  type Message,
  type MessageKind,
  PROTOCOL_VERSION,
  rangeIndices,
  type SlotRanges,
  statusRank,
  supersedes,
  toRanges,
} from './messages.js'
export { type DesiredView, EMPTY_DESIRED, type PeerSettings } from './desired.js'
export { MemberTable, retransmitLimit } from './membership.js'
export { PeerNumbers } from './peer-numbers.js'
export { ClusterState } from './cluster.js'
export { type MachineInit, type Output, PeerMachine } from './machine.js'
export {
  type DecodeError,
  type DecodeErrorCode,
  decodeMessage,
  type DecodeResult,
  encodeMessage,
  splitState,
  validateMessage,
  WIRE_LIMITS,
} from './codec.js'
// The machine's parts (failure detector, anti-entropy, bid rounds, task table, own advert) stay
// inside the protocol; of them, only the restart policy and the pending report of `peer why` are public.
export { exitOutcome, restartDelayMs, withState, type ExitOutcome, type LocalTask } from './local-tasks.js'
export type { PendingInfo } from './bid-rounds.js'
export { fencedByMajority, PartitionQuorum, quorumLossBoundMs, takeoverDelayMs } from './partition-quorum.js'
export { claimHoldMs, MajorityClaims } from './majority-claims.js'
export { heldByCut, type LossFacts, SITE_LABEL, SiteCuts, type SiteCutsDeps, siteOf } from './site-cut.js'
export {
  linkKind,
  type LinkKind,
  LinkTiming,
  MAX_LINKS_ESTIMATED,
  SAMPLES_TO_SHORTEN,
  measuredBidWindowMs,
  measuredProbeTimeoutMs,
  nextEstimate,
  PROBE_TIMEOUT_ROUND_TRIPS,
  REFUTATION_ROUND_TRIPS,
  type RoundTiming,
  roundTimeoutForWindowMs,
  type RoundTripEstimate,
  upperRoundTripMs,
} from './link-timing.js'
export { holdersNamedByBid, inRanges } from './lagging-bids.js'
export type { ProtocolEvent, ProtocolObserver } from './observer.js'
export type { TaskUsage } from './messages.js'
