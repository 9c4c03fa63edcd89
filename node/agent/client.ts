// The agent's face for clients: what a short-lived command (status, ps, nodes, …) needs to find and
// describe an agent, without loading the agent — libp2p, Automerge and the runtime are ≈ 0.7 s of
// CPU at every command's start. index.ts is the whole unit; this file loads no package
// (test/architecture.test.ts holds it to that).

export { CONTROL_SOCKET_FILE, defaultDataDir } from './data-dir-location.js'
export { BUILT_IN_LABELS } from './peer-labels.js'
