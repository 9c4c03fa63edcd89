// The p2p layer's face for clients: how `peer nodes` names a join address, without loading libp2p.
// index.ts is the whole unit; this file loads no package (test/architecture.test.ts).

export { joinLabel } from './join-label.js'
export type { JoinFailure, Reachability } from './index.js'
