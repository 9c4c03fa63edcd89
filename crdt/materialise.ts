// The document as plain typed data: what the reconciler and the CLI read. Nothing Automerge-specific
// leaves here, order is fixed (by name), and a value that is not valid — garbage from a faulty peer,
// or a spec that only became invalid by merging concurrent edits — is listed under `invalid` with the
// reason, instead of being passed on or crashing the reader.
//
// Secrets a service lists are resolved here to their current versions (core/service-spec/secrets.ts):
// the document stores names, the materialised spec carries `{ name, version }`, and so specHash — the
// same on every peer that holds the same document — changes when a secret gets a new version, or
// appears or disappears. A name with no secret resolves to version 0, which placement refuses with a
// reason (`peer why`: secret does not exist), so such a service stays pending instead of being
// ignored as invalid: it is valid, only waiting for its secret.

import { resolveSecretVersions, specDigest, specHash, type ServiceSpec, type SpecError } from '../core/index.js'
import { compareStrings } from '../core/index.js'
import { readAllPeerSettings, type PeerSettings } from './peers.js'
import { deepFreeze, isRecordValue } from './plain.js'
import type { DesiredDoc, DesiredStateDocument } from './schema.js'
import { readSecretInfo, secretNames, type SecretInfo } from './secrets.js'
import { readServiceEntry, serviceEntryNames } from './service-entry.js'
import { checkSpec } from './spec-check.js'

export interface ServiceState {
  readonly spec: ServiceSpec
  readonly version: number
  /** Computed from `spec` as materialised, so they describe the merged spec, not one writer's. */
  readonly specDigest: string
  readonly specHash: string
  /** The peer that wrote the version shown, and when (ms since the epoch, the writer's clock). */
  readonly author: string
  readonly timeMs: number
}

export interface InvalidService {
  readonly service: string
  readonly errors: readonly SpecError[]
}

export interface DesiredState {
  /** Live services, sorted by name. */
  readonly services: readonly ServiceState[]
  /** Peers with operator settings, sorted by peer id. */
  readonly peers: readonly PeerSettings[]
  /** Secret names and metadata, sorted by name; values need the cluster key (readSecret). */
  readonly secrets: readonly SecretInfo[]
  /** Service entries that are not valid specs, and why. Not scheduled. */
  readonly invalid: readonly InvalidService[]
}

export function desiredState(doc: DesiredDoc): DesiredState {
  const services: ServiceState[] = []
  const invalid: InvalidService[] = []
  for (const name of serviceEntryNames(doc)) {
    const result = materialiseService(doc, name)
    if (result === undefined) continue
    if ('spec' in result) services.push(result)
    else invalid.push(result)
  }
  const peers = [...readAllPeerSettings(doc).values()].sort((a, b) => compareStrings(a.peer, b.peer))
  const secrets = secretNames(doc).map((name) => readSecretInfo(doc, name)).filter((info): info is SecretInfo => info !== undefined)
  return { services, peers, secrets, invalid }
}

/** One live service, or undefined when it does not exist, was removed, or is invalid. */
export function serviceState(doc: DesiredDoc, name: string): ServiceState | undefined {
  const result = materialiseService(doc, name)
  return result !== undefined && 'spec' in result ? result : undefined
}

/**
 * Results by stored entry object. Automerge shares unchanged objects between successive versions of
 * a document, so after a small change only the entries it touched are checked again: materialising a
 * 1,000-service document after one edit costs one service, not 1,000.
 */
const materialised = new WeakMap<object, { name: string; result: ServiceState | InvalidService | undefined }>()

function materialiseService(doc: DesiredDoc, name: string): ServiceState | InvalidService | undefined {
  const result = materialiseStored(doc, name)
  return result !== undefined && 'spec' in result ? withSecretVersions(doc, result) : result
}

/** Resolved states by stored state, with the versions they were resolved at. */
const resolved = new WeakMap<ServiceState, { key: string; state: ServiceState }>()

/** The state with its secrets at their current versions; the same object when it lists none. */
function withSecretVersions(doc: DesiredDoc, state: ServiceState): ServiceState {
  const refs = state.spec.secrets
  if (refs === undefined || refs.length === 0) return state
  const versions = new Map(refs.map((ref) => [ref.name, readSecretInfo(doc, ref.name)?.version ?? 0]))
  const key = [...versions.values()].join(',')
  const cached = resolved.get(state)
  if (cached !== undefined && cached.key === key) return cached.state
  const spec = resolveSecretVersions(state.spec, (secret) => versions.get(secret))
  const next = deepFreeze({ ...state, spec, specDigest: specDigest(spec), specHash: specHash(spec) })
  resolved.set(state, { key, state: next })
  return next
}

function materialiseStored(doc: DesiredDoc, name: string): ServiceState | InvalidService | undefined {
  const services = (doc as DesiredStateDocument).services as unknown
  if (!isRecordValue(services) || !Object.hasOwn(services, name)) return undefined
  const stored = services[name]
  if (!isRecordValue(stored)) return { service: name, errors: [{ path: `services.${name}`, message: 'is not a service entry' }] }
  const cached = materialised.get(stored)
  if (cached !== undefined && cached.name === name) return cached.result
  // Frozen because the same object is handed to every later caller.
  const result = deepFreeze(materialiseEntry(doc, name))
  materialised.set(stored, { name, result })
  return result
}

function materialiseEntry(doc: DesiredDoc, name: string): ServiceState | InvalidService | undefined {
  const entry = readServiceEntry(doc, name)
  if (entry === undefined || entry.removed) return undefined
  const check = checkSpec(entry.spec, `services.${name}`)
  if (!check.ok) return { service: name, errors: check.errors }
  if (check.spec.name !== name) return { service: name, errors: [{ path: `services.${name}.name`, message: 'does not match its key' }] }
  return {
    spec: check.spec,
    version: entry.version,
    specDigest: specDigest(check.spec),
    specHash: specHash(check.spec),
    author: entry.author,
    timeMs: entry.timeMs,
  }
}
