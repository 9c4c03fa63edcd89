// The agent's web view: one read-only page of the cluster as this agent sees it (peers, services,
// slots, pending slots and why, the live event stream), served by every agent from its own files.
// docs/monitoring.md describes it.
export { DEFAULT_UI_LISTEN, isLoopbackHost, isLoopbackHostHeader } from './bind-address.js'
export { openWebView, type WebViewOptions } from './endpoint.js'
export type { WebViewServer } from './server.js'
export { ensureUiToken, UI_TOKEN_FILE } from './token.js'
