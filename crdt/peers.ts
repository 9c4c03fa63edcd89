// Per-peer operator settings: drain (move work off and take none), cordon (keep what runs, take
// nothing new), and extra labels that constraints can match. Stored in one flat map (schema.ts says
// why); each field is its own register, so concurrent edits to different fields of one peer merge.

import { ImmutableString } from '@automerge/automerge'
import { PEER_ID_PATTERN, type PeerId } from '../core/index.js'
import { LABEL_KEY } from '../core/index.js'
import { commitChange } from './change.js'
import { failure, type EditResult } from './errors.js'
import { isRecordValue, readNumber, readString } from './plain.js'
import { DOCUMENT_LIMITS, type DesiredDoc, type DesiredStateDocument } from './schema.js'

export interface PeerSettings {
  readonly peer: PeerId
  /** Move this peer's tasks elsewhere and place nothing new on it. */
  readonly drain: boolean
  /** Place nothing new on this peer; what runs keeps running. */
  readonly cordon: boolean
  /** Labels added by operators, on top of those the peer advertises itself. */
  readonly labels: Readonly<Record<string, string>>
  /** Who changed these settings last, and when. */
  readonly author: string
  readonly timeMs: number
}

const LABEL_PREFIX = 'labels/'

export function drain(doc: DesiredDoc, peer: string, author: PeerId, nowMs: number): EditResult {
  return setFlags(doc, peer, { drain: true }, 'drain', author, nowMs)
}

export function cordon(doc: DesiredDoc, peer: string, author: PeerId, nowMs: number): EditResult {
  return setFlags(doc, peer, { cordon: true }, 'cordon', author, nowMs)
}

/** Clears both drain and cordon: the peer takes work again. */
export function uncordon(doc: DesiredDoc, peer: string, author: PeerId, nowMs: number): EditResult {
  return setFlags(doc, peer, { drain: false, cordon: false }, 'uncordon', author, nowMs)
}

/** Sets labels (a string value) and removes them (null). Labels not named are left alone. */
export function setPeerLabels(doc: DesiredDoc, peer: string, labels: Readonly<Record<string, string | null>>, author: PeerId, nowMs: number): EditResult {
  if (!PEER_ID_PATTERN.test(peer)) return failure({ kind: 'invalid-peer', peer })
  for (const [label, value] of Object.entries(labels)) {
    if (!LABEL_KEY.test(label)) return failure({ kind: 'invalid-label', peer, label, message: 'not a valid label name' })
    if (value !== null && value.length > DOCUMENT_LIMITS.labelValueLength) {
      return failure({ kind: 'invalid-label', peer, label, message: `values are at most ${DOCUMENT_LIMITS.labelValueLength} characters` })
    }
  }
  const current = readPeerSettings(doc, peer as PeerId)
  const pending = Object.entries(labels).filter(([label, value]) =>
    value === null ? Object.hasOwn(current.labels, label) : current.labels[label] !== value)
  if (pending.length === 0) return { ok: true, doc, change: null }
  return write(doc, peer as PeerId, `label ${peer}`, author, nowMs, (settings) => {
    for (const [label, value] of pending) {
      const key = `${peer}/${LABEL_PREFIX}${label}`
      if (value === null) delete settings[key]
      else settings[key] = new ImmutableString(value)
    }
  })
}

function setFlags(doc: DesiredDoc, peer: string, flags: { drain?: boolean; cordon?: boolean }, verb: string, author: PeerId, nowMs: number): EditResult {
  if (!PEER_ID_PATTERN.test(peer)) return failure({ kind: 'invalid-peer', peer })
  const current = readPeerSettings(doc, peer as PeerId)
  const pending = (['drain', 'cordon'] as const).filter((flag) => flags[flag] !== undefined && current[flag] !== flags[flag])
  if (pending.length === 0) return { ok: true, doc, change: null }
  return write(doc, peer as PeerId, `${verb} ${peer}`, author, nowMs, (settings) => {
    for (const flag of pending) settings[`${peer}/${flag}`] = flags[flag]!
  })
}

function write(doc: DesiredDoc, peer: PeerId, message: string, author: PeerId, nowMs: number, edit: (settings: Record<string, unknown>) => void): EditResult {
  const committed = commitChange(doc, message, nowMs, (root) => {
    if (!isRecordValue(root.peers)) root.peers = {}
    const settings = root.peers as Record<string, unknown>
    edit(settings)
    settings[`${peer}/author`] = new ImmutableString(author)
    settings[`${peer}/timeMs`] = nowMs
  })
  return { ok: true, ...committed }
}

/** One peer's settings; a peer never mentioned has the defaults (not drained, not cordoned, no labels). */
export function readPeerSettings(doc: DesiredDoc, peer: PeerId): PeerSettings {
  return readAllPeerSettings(doc).get(peer) ?? emptySettings(peer)
}

/** Every peer that has settings, by peer id. Keys that do not parse are ignored. */
export function readAllPeerSettings(doc: DesiredDoc): Map<PeerId, PeerSettings> {
  const stored = (doc as DesiredStateDocument).peers as unknown
  const out = new Map<PeerId, { -readonly [K in keyof PeerSettings]: PeerSettings[K] }>()
  if (!isRecordValue(stored)) return out
  for (const key of Object.keys(stored)) {
    const slash = key.indexOf('/')
    if (slash <= 0) continue
    const peer = key.slice(0, slash) as PeerId
    if (!PEER_ID_PATTERN.test(peer)) continue
    const field = key.slice(slash + 1)
    let settings = out.get(peer)
    if (settings === undefined) {
      settings = { ...emptySettings(peer), labels: {} }
      out.set(peer, settings)
    }
    const value = stored[key]
    if (field === 'drain' || field === 'cordon') settings[field] = value === true
    else if (field === 'author') settings.author = readString(value) ?? ''
    else if (field === 'timeMs') settings.timeMs = readNumber(value) ?? 0
    else if (field.startsWith(LABEL_PREFIX)) {
      const label = field.slice(LABEL_PREFIX.length)
      const text = readString(value)
      if (LABEL_KEY.test(label) && text !== undefined) (settings.labels as Record<string, string>)[label] = text
    }
  }
  return out
}

function emptySettings(peer: PeerId): PeerSettings {
  return { peer, drain: false, cordon: false, labels: {}, author: '', timeMs: 0 }
}
