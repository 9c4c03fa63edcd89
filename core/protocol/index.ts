export * from './config.js'
export * from './messages.js'
export * from './desired.js'
export * from './membership.js'
export * from './cluster.js'
export * from './machine.js'
export * from './codec.js'
// The machine's parts (failure detector, anti-entropy, bid rounds, task table, own advert) stay
// inside the protocol; of them, only the restart policy and the pending report of `peer why` are public.
export { exitOutcome, restartDelayMs, withState, type ExitOutcome, type LocalTask } from './local-tasks.js'
export type { PendingInfo } from './bid-rounds.js'
