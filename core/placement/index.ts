// Placement: plain functions over plain data — feasibility, scoring, candidates, bids, the auction,
// the conflict rule, the reconciler and the offline planner.
export {
  compareSlots,
  compareStrings,
  globalSlot,
  type ParsedSlot,
  parseSlot,
  replicaIndexOf,
  PEER_ID_PATTERN,
  peerId,
  type PeerId,
  replicaSlot,
  SERVICE_NAME_PATTERN,
  serviceName,
  type ServiceName,
  serviceOfSlot,
  type SlotId,
  sortBySlot,
} from './ids.js'
export {
  countOnPeer,
  isActive,
  isUp,
  PEER_STATES,
  type PeerState,
  type PeerView,
  TASK_STATES,
  type TaskState,
  type TaskView,
  usedPorts,
} from './view.js'
export { couldHost, placementRequest, type PlacementRequest } from './request.js'
export {
  countRejections,
  type Feasibility,
  feasible,
  type Rejection,
  REJECTION_TEXT,
  type RejectionCount,
  type RejectionReason,
} from './feasibility.js'
export {
  compareScores,
  domainScore,
  marginalScore,
  type Score,
  type ScoringRequest,
  type ScoringState,
} from './scoring.js'
export {
  buildRing,
  candidateCount,
  candidates,
  isCandidate,
  type PeerRing,
  ringOf,
  roundWindow,
  type RoundWindow,
  VIRTUAL_POINTS,
  WIDEN_FACTOR,
  windowStep,
} from './candidates.js'
export {
  type Bid,
  type BidContext,
  type BidResult,
  bidScore,
  computeBid,
  MAX_REPLICAS_PER_BID,
} from './bid.js'
export { auction, type AuctionInput, type AuctionResult, type Award, latestBids } from './auction.js'
export {
  type Claim,
  claimTieBreak,
  compareClaims,
  type ConflictResolution,
  resolveClaims,
} from './conflict.js'
export {
  addTask,
  effectiveUpdateOrder,
  endedKey,
  indexTasks,
  type PeerLookup,
  type PlaceAction,
  type PlaceReason,
  reconcile,
  type ReconcileInput,
  type ReconcileResult,
  reconcileService,
  type Rollout,
  type ServiceReconcile,
  type ServiceTasks,
  type StopAction,
  type StopReason,
  type WaitAction,
} from './reconcile.js'
export {
  type CandidateReport,
  type PeerUsage,
  type PendingSlot,
  type Placement,
  plan,
  type PlanInput,
  type PlanResult,
  type ServicePlan,
} from './plan.js'
export { type InventoryResult, MAX_INVENTORY_PEERS, validateInventory } from './inventory.js'
