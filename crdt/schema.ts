// The shape of the desired-state document as Automerge stores it. Readers never trust this shape:
// any peer holding the network key can write any change, so materialising checks every value
// (see materialise.ts). The types below describe what our own writers produce.
//
// Strings are stored as Automerge ImmutableString (scalars), never as collaborative text: two peers
// setting `image` concurrently must produce one image or the other, not an interleaving of both.
// Lists are replaced whole, never edited in place, so a merged `command` is always one peer's argv.

import type { Doc, ImmutableString } from '@automerge/automerge'

/** Bumped only with a new genesis: documents of different schema versions never merge. */
export const SCHEMA_VERSION = 1

/** One stored string: a scalar, so concurrent writes conflict as a whole (see the file comment). */
export type StoredString = ImmutableString

/** `merge`: the spec concurrent writes merged into, recorded as a version of its own (version-graph.ts). */
export type VersionAction = 'create' | 'update' | 'scale' | 'remove' | 'revert' | 'merge'
export const VERSION_ACTIONS: readonly VersionAction[] = ['create', 'update', 'scale', 'remove', 'revert', 'merge']

/**
 * A service: its spec, one register per field (spec-codec.ts), so concurrent edits to different
 * fields merge; a removal flag (a tombstone, so history survives removal and a later apply continues
 * the version numbers); the newest version's number, author and time as registers; and the recent
 * version records, each an immutable JSON string (versions.ts).
 */
export interface StoredService {
  spec: Record<string, unknown>
  removed: boolean
  version: number
  author: StoredString
  timeMs: number
  versions: StoredString[]
}

/**
 * A secret, written whole on every change: iv, ciphertext and tag only make sense together, so a
 * field-level merge of two writes would produce something no key can open.
 */
export interface StoredSecret {
  ciphertext: Uint8Array
  iv: Uint8Array
  tag: Uint8Array
  /** Identifies the cluster key that sealed it, so a wrong key is reported as such. */
  keyId: StoredString
  version: number
  author: StoredString
  timeMs: number
}

/**
 * Operator settings of every peer in one flat map with keys `<peer>/<field>`:
 * `<peer>/drain`, `<peer>/cordon`, `<peer>/author`, `<peer>/timeMs` and `<peer>/labels/<key>`.
 * Flat, because a nested map per peer would be created lazily, and two peers creating it
 * concurrently (one draining, one labelling) would each make their own map, one of which the merge
 * would hide. Peer ids never contain '/', so the first '/' separates the peer from the field.
 */
export type StoredPeerSettings = Record<string, boolean | number | StoredString>

export interface DesiredStateDocument {
  schema: number
  services: Record<string, StoredService>
  peers: StoredPeerSettings
  secrets: Record<string, StoredSecret>
}

export type DesiredDoc = Doc<DesiredStateDocument>

/** Knobs of the document itself; each says what it trades. */
export const DOCUMENT_LIMITS = {
  /**
   * Versions kept per service in the materialised document. Older entries are deleted (Automerge
   * still holds them in its change history); 100 keeps months of routine deploys while a 1,000-service
   * document stays a few MB in memory.
   */
  versionsPerService: 100,
  /** Largest secret value. Secrets travel in broadcasts, which are capped at 64 KiB. */
  secretValueBytes: 32 * 1024,
  /** Longest peer label value; labels are matched by constraints, not used to carry data. */
  labelValueLength: 256,
} as const
