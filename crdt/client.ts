// The desired-state document's face for clients: limits and shapes a command checks or prints,
// without loading Automerge. index.ts is the whole unit; this file loads no package
// (test/architecture.test.ts).

export { DOCUMENT_LIMITS } from './schema.js'
export type { HistoryEntry, SecretInfo, ServiceOutcome } from './index.js'
