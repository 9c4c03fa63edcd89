// The document as plain typed data: what the reconciler and the CLI read. Nothing Automerge-specific
// leaves here, order is fixed (by name), and a value that is not valid — garbage from a faulty peer,
// or a spec that only became invalid by merging concurrent edits — is listed under `invalid` with the
// reason, instead of being passed on or crashing the reader.

import { specDigest, specHash, type ServiceSpec, type SpecError } from '../core/service-spec/index.js'
import { compareStrings } from '../core/placement/ids.js'
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
