// The agent's control API: HTTP+JSON over a unix socket (mode 0600), NDJSON for streams. server.ts
// serves the routes an agent hands it; client.ts is what the CLI calls.
export {
  ControlError,
  DEFAULT_MAX_BODY_BYTES,
  startControlServer,
  type ControlMethod,
  type ControlReply,
  type ControlRequest,
  type ControlRoute,
  type ControlServer,
  type ControlServerOptions,
} from './server.js'
export {
  ControlClientError,
  DEFAULT_REQUEST_TIMEOUT_MS,
  controlRequest,
  controlStream,
  type ControlRequestOptions,
  type ControlStreamOptions,
} from './client.js'
