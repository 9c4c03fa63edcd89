// Desired state as the machine sees it: the materialised CRDT document (services and per-peer operator
// settings) plus a digest of its heads. The machine never edits it; it only reads it and compares
// digests with other peers to ask its host to sync.

import type { PeerId } from '../placement/ids.js'
import type { ServiceSpec } from '../service-spec/types.js'

export interface PeerSettings {
  readonly drain: boolean
  readonly cordon: boolean
  /** Labels the operator added; they override the host's own labels of the same name. */
  readonly labels: Readonly<Record<string, string>>
}

export interface DesiredView {
  /** Digest of the document's heads: equal digests mean equal documents. */
  readonly digest: string
  readonly services: readonly ServiceSpec[]
  readonly peers: ReadonlyMap<PeerId, PeerSettings>
}

export const EMPTY_DESIRED: DesiredView = { digest: 'empty', services: [], peers: new Map() }
