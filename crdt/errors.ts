// Errors a caller can expect from the document operations. They are values, not exceptions: the CLI
// prints them, the agent answers them over its control API. Each names what it is about.

import type { Mode, SpecError } from '../core/index.js'
import type { DesiredDoc } from './schema.js'

export type DesiredStateError =
  | { kind: 'unknown-service'; service: string }
  | { kind: 'duplicate-service'; service: string }
  | { kind: 'invalid-spec'; service: string; errors: SpecError[] }
  | { kind: 'invalid-replicas'; service: string; replicas: number }
  | { kind: 'not-scalable'; service: string; mode: Mode }
  | { kind: 'unknown-version'; service: string; version: number | string }
  /** A bare number that concurrent writes gave to several versions; `candidates` are their ids. */
  | { kind: 'ambiguous-version'; service: string; version: number | string; candidates: string[] }
  | { kind: 'version-has-no-spec'; service: string; version: number | string }
  | { kind: 'invalid-peer'; peer: string }
  | { kind: 'invalid-label'; peer: string; label: string; message: string }
  | { kind: 'invalid-secret-name'; secret: string }
  | { kind: 'unknown-secret'; secret: string }
  | { kind: 'secret-too-large'; secret: string; sizeBytes: number; limitBytes: number }
  | { kind: 'invalid-key'; lengthBytes: number }
  | { kind: 'wrong-key'; secret: string }
  | { kind: 'corrupt-secret'; secret: string }
  /** A port published on every peer (ingress) that another service already publishes. */
  | { kind: 'port-clash'; service: string; path: string; port: number; protocol: string; other: string }

/**
 * The result of an edit. `change` holds the bytes of the one Automerge change the edit made (to
 * persist and broadcast), or null when nothing needed to change and the document is the same object.
 */
export type EditResult<Extra = object> =
  | ({ ok: true; doc: DesiredDoc; change: Uint8Array | null } & Extra)
  | { ok: false; error: DesiredStateError }

export function failure(error: DesiredStateError): { ok: false; error: DesiredStateError } {
  return { ok: false, error }
}

/** One sentence for a person, e.g. for the CLI. */
export function describeError(error: DesiredStateError): string {
  switch (error.kind) {
    case 'unknown-service':
      return `no service named ${JSON.stringify(error.service)}`
    case 'duplicate-service':
      return `service ${JSON.stringify(error.service)} is given more than once`
    case 'invalid-spec':
      return `service ${JSON.stringify(error.service)} is not a valid spec: ${error.errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`
    case 'invalid-replicas':
      return `cannot scale ${JSON.stringify(error.service)} to ${error.replicas}: expected a whole number from 0 up`
    case 'not-scalable':
      return `service ${JSON.stringify(error.service)} runs in ${error.mode} mode, which has no replica count`
    case 'unknown-version':
      return `service ${JSON.stringify(error.service)} has no version ${error.version} in its history`
    case 'ambiguous-version':
      return `service ${JSON.stringify(error.service)} has ${error.candidates.length} versions ${error.version}, written concurrently on different peers: ` +
        `${error.candidates.join(', ')}; name one of these ids (see peer history ${error.service})`
    case 'version-has-no-spec':
      return `version ${error.version} of ${JSON.stringify(error.service)} left it removed; there is no spec to revert to`
    case 'invalid-peer':
      return `${JSON.stringify(error.peer)} is not a peer id`
    case 'invalid-label':
      return `label ${JSON.stringify(error.label)} on peer ${JSON.stringify(error.peer)}: ${error.message}`
    case 'invalid-secret-name':
      return `${JSON.stringify(error.secret)} is not a secret name (letters, digits, ".", "_" and "-", at most 128)`
    case 'unknown-secret':
      return `no secret named ${JSON.stringify(error.secret)}`
    case 'secret-too-large':
      return `secret ${JSON.stringify(error.secret)} is ${error.sizeBytes} bytes; the limit is ${error.limitBytes}`
    case 'invalid-key':
      return `the cluster key must be 32 bytes, got ${error.lengthBytes}`
    case 'wrong-key':
      return `secret ${JSON.stringify(error.secret)} was sealed with a different cluster key`
    case 'corrupt-secret':
      return `secret ${JSON.stringify(error.secret)} does not open with the cluster key: it is damaged`
    case 'port-clash':
      return `services.${error.service}.${error.path}: port ${error.port}/${error.protocol} is already published by service ${JSON.stringify(error.other)}` +
        ` (an ingress port is published on every peer, so two services cannot share it)`
  }
}
