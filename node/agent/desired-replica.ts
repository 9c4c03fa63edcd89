// One peer's copy of the desired-state document: loaded from and persisted to its store directory,
// spread to other peers by gossip (the fast path) and repaired by the Automerge sync protocol over a
// direct request/response stream (anti-entropy: gossip loses whatever was published while a peer
// was cut off). The pieces are crdt/ (store, broadcast, sync) and p2p/ (host, transport); this file
// only wires them together and sets the order of operations:
//
//   - Every step that replaces the document (a local edit, received gossip, a sync round on either
//     side) runs on one serial queue. Automerge makes a document "outdated" once a newer one has been
//     derived from it: two steps working from the same document would lose one's changes, and the
//     second would throw.
//   - Whatever changes the heads is persisted (fdatasync) in the step that changed them: a local
//     change before it is broadcast or its listeners hear of it, a change a sync request brought
//     before the answer goes back, so no peer ever holds a change of ours that we could lose, and a
//     resolved edit() is durable. Changes that came from others (gossip, our own sync runs) are
//     already durable at their sender, so listeners hear of them first and the persist follows in
//     the same step: with several agents on one disk, the fdatasync alone took 100–260 ms, and
//     placement must start bidding on every peer at nearly the same time (core/protocol/config.ts).
//     A crash inside that step loses the change here only; sync brings it back.
//
// Sync wire format (DESIRED_SYNC_PROTOCOL), one request/response per round:
//   request:  8-byte session id, then a sync payload (crdt/sync.ts), or nothing ("nothing to send")
//   response: a sync payload, or nothing
// The requester picks a fresh random session id and a fresh SyncState per run; the responder keeps
// one SyncState per (requester, session id). A requester that restarts therefore starts a new
// session instead of resuming a state that believes it holds changes it lost (crdt/sync.ts).

// p2p/ first: its face loads the polyfill (Node 20 lacks Promise.withResolvers) before anything of libp2p.
import '../../p2p/index.js'

import { randomBytes } from 'node:crypto'
import { TopicValidatorResult, type Message as GossipMessage } from '@libp2p/gossipsub'
import type { PeerId as Libp2pPeerId } from '@libp2p/interface'
import {
  decodeBroadcast,
  encodeBroadcast,
  generateSync,
  headsDigest,
  newProcessNonce,
  newSyncState,
  openStore,
  peerActor,
  receiveChanges,
  receiveSync,
  type DesiredDoc,
  type DesiredStateStore,
  type EditResult,
  type PayloadError,
  type StoreWarning,
  type SyncState,
} from '../../crdt/index.js'
import type { PeerId } from '../../core/index.js'
import { DESIRED_SYNC_PROTOCOL, DESIRED_TOPIC, RequestError, type Host, type P2pTransport } from '../../p2p/index.js'
import { messageOf } from '../../core/index.js'
import type { DesiredReplicaStats, StatusWarning } from '../control/index.js'
import { DESIRED_SYNC_DEFAULTS } from './config.js'

/** Length of the session id that starts every sync request: part of the wire format, not a knob. */
export const SYNC_SESSION_ID_BYTES = 8

export interface DesiredReplicaInit {
  /** The store directory (crdt openStore). */
  readonly dir: string
  /** This peer's libp2p id; with a fresh process nonce it makes the Automerge actor. */
  readonly self: PeerId
  /** The host whose gossipsub carries DESIRED_TOPIC (and whose registrar serves the sync protocol). */
  readonly host: Host
  /** request()/handle() for DESIRED_SYNC_PROTOCOL. */
  readonly transport: P2pTransport
  /** Told of every sync run this replica starts, when it ends: its outcome and how long it took. */
  readonly onSyncRun?: (outcome: SyncOutcome, durationMs: number) => void
  /** One line per event worth a log entry (store warnings, refused input, failed syncs). */
  readonly log?: (line: string) => void
}

export type SyncOutcome = { ok: true; rounds: number; received: boolean } | { ok: false; reason: string }

type ChangeListener = (doc: DesiredDoc) => void

interface ServedSession {
  state: SyncState
  lastUsedMs: number
}

const EMPTY = new Uint8Array(0)

export class DesiredReplica {
  private current: DesiredDoc
  /** The tail of the serial queue: every step that replaces `current` runs after the previous one settles. */
  private tail: Promise<unknown> = Promise.resolve()
  private readonly listeners = new Set<ChangeListener>()
  /** Runs in progress, by peer: concurrent syncWith calls for one peer share one. */
  private readonly runs = new Map<PeerId, Promise<SyncOutcome>>()
  /** Responder state, by `peer/session` in least-recently-used order (a Map keeps insertion order). */
  private readonly sessions = new Map<string, ServedSession>()
  /** Changes decoded by the validator, picked up by the message event (gossipsub passes the same object to both). */
  private readonly decodedGossip = new WeakMap<GossipMessage, Uint8Array[]>()
  /** Aborts requests in flight when the replica closes. */
  private readonly closing = new AbortController()
  private closed = false
  /** What attach() took on the host, so close() gives back exactly that (and nothing of another replica's). */
  private readonly attached = { gossip: false, sync: false }
  private closePromise: Promise<void> | undefined
  private readonly counters: DesiredReplicaStats = { gossipReceived: 0, gossipRejected: 0, syncsRun: 0, syncsServed: 0, syncFailures: 0 }
  private readonly log: (line: string) => void
  /** What opening the store found damaged or missing, for `peer status` (kept for the life of the replica). */
  private readonly storeWarnings: StatusWarning[] = []

  private constructor(
    private readonly init: DesiredReplicaInit,
    private readonly store: DesiredStateStore,
    doc: DesiredDoc,
  ) {
    this.current = doc
    this.log = init.log ?? (() => undefined)
  }

  /**
   * Loads the document from `dir` and joins the cluster's copy of it: topic validator, then the
   * subscription, then the sync protocol. Throws on I/O errors opening the store, or when another
   * replica is still open on this host (it is left untouched).
   */
  static async open(init: DesiredReplicaInit): Promise<DesiredReplica> {
    // A fresh nonce per open: Automerge refuses an actor that reuses sequence numbers, which a
    // restarted peer would do if its last changes never reached its disk (crdt/genesis.ts).
    const opened = await openStore(init.dir, { actor: peerActor(init.self, newProcessNonce()) })
    const replica = new DesiredReplica(init, opened.store, opened.doc)
    const openedAt = Date.now()
    for (const warning of opened.warnings) {
      replica.log(`desired state: store warning: ${describeWarning(warning)}`)
      // A temporary file of an interrupted compaction loses nothing: a log line is enough.
      if (warning.kind !== 'leftover-temp-file') replica.storeWarnings.push({ at: openedAt, source: 'desired-state', message: `desired state on disk: ${describeWarning(warning)}` })
    }
    try {
      await replica.attach()
    } catch (error) {
      await replica.close()
      throw error
    }
    return replica
  }

  /** The current document. Read it only: deriving a change from it outside edit() outdates the replica's copy. */
  get doc(): DesiredDoc {
    return this.current
  }

  /** The heads digest carried in heartbeats (crdt headsDigest). */
  digest(): string {
    return headsDigest(this.current)
  }

  /** Calls `listener` after every change of heads, local or received, once it is persisted. Returns an unsubscribe function. */
  onChange(listener: ChangeListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  stats(): DesiredReplicaStats {
    return { ...this.counters }
  }

  /** The document's size on disk: its snapshot and the log of changes since. */
  storedBytes(): number {
    return this.store.snapshotBytes + this.store.logBytes
  }

  /**
   * Writes whatever the current document holds that a failed persist left in memory only (a full
   * disk): called when the disk has room again, rather than waiting for the next change.
   */
  persistPending(): Promise<void> {
    return this.enqueue(async () => {
      await this.store.persist(this.current)
    })
  }

  /** Damage the store found on disk when it opened (a damaged snapshot or log, a torn tail, missing changes). */
  warnings(): StatusWarning[] {
    return [...this.storeWarnings]
  }

  /**
   * Runs a crdt edit (apply, scale, remove, revert, drain, …) on the current document. When it
   * succeeds with a change: persists it, adopts the new document, notifies listeners, then
   * broadcasts the change. Resolves once the change is durable; a failed edit changes nothing.
   * Rejects only when the replica is closed, the operation throws, or the disk fails; after a disk
   * failure the change stays in memory (Automerge cannot take it back), goes to disk with the next
   * successful persist and is never broadcast by this call.
   */
  async edit<T extends object>(operation: (doc: DesiredDoc) => EditResult<T>): Promise<EditResult<T>> {
    return this.enqueue(async () => {
      const result = operation(this.current)
      if (!result.ok || result.change === null) return result
      await this.adopt(result.doc, 'none')
      // Others first, then this peer's own listeners: placement starts a bid window when a peer
      // learns of a change, and the author's window should not close before the others' open.
      this.publish(result.change)
      this.notify(result.doc)
      return result
    })
  }

  /**
   * Runs the sync protocol with `peer` until neither side has anything to send (at most
   * DESIRED_SYNC_DEFAULTS.maxRounds round trips). Concurrent calls for one peer share one run. Never
   * rejects.
   */
  syncWith(peer: PeerId): Promise<SyncOutcome> {
    const running = this.runs.get(peer)
    if (running !== undefined) return running
    const startedMs = performance.now()
    const run = this.runSync(peer).finally(() => this.runs.delete(peer))
    if (this.init.onSyncRun !== undefined) void run.then((outcome) => this.init.onSyncRun?.(outcome, performance.now() - startedMs))
    this.runs.set(peer, run)
    return run
  }

  /** Leaves the topic, stops serving sync, waits for queued steps, and closes the store. Safe to call twice. */
  close(): Promise<void> {
    this.closePromise ??= (async () => {
      this.closed = true
      this.closing.abort(new Error('the desired replica is closed'))
      const pubsub = this.init.host.pubsub
      if (this.attached.gossip) {
        pubsub.removeEventListener('message', this.receiveGossip)
        try {
          pubsub.unsubscribe(DESIRED_TOPIC)
        } catch {
          // The host may already be stopped.
        }
        pubsub.topicValidators.delete(DESIRED_TOPIC)
      }
      if (this.attached.sync) await this.init.host.node.unhandle(DESIRED_SYNC_PROTOCOL).catch(() => undefined)
      await this.tail.catch(() => undefined)
      await Promise.all([...this.runs.values()])
      await this.store.close()
    })()
    return this.closePromise
  }

  // --- setup -------------------------------------------------------------------------------------

  private async attach(): Promise<void> {
    const pubsub = this.init.host.pubsub
    if (pubsub.topicValidators.has(DESIRED_TOPIC)) throw new Error(`another desired-state replica is open on this host (${DESIRED_TOPIC} has a validator)`)
    // The validator must be in place before the subscription, or early messages pass unchecked.
    pubsub.topicValidators.set(DESIRED_TOPIC, this.validateGossip)
    pubsub.addEventListener('message', this.receiveGossip)
    pubsub.subscribe(DESIRED_TOPIC)
    this.attached.gossip = true
    await this.init.transport.handle(DESIRED_SYNC_PROTOCOL, (from, request) => this.serveSync(from, request))
    this.attached.sync = true
  }

  // --- the serial queue --------------------------------------------------------------------------

  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const result = this.tail.then(() => {
      if (this.closed) throw new Error('the desired replica is closed')
      return step()
    })
    this.tail = result.catch(() => undefined)
    return result
  }

  /**
   * Makes `doc` (derived from `current`) the current document and persists it; listeners hear of it
   * after the persist, before it (changes that came from another peer, see the top of this file), or
   * not at all. Only from a queued step. `current` is outdated as soon as `doc` exists, so `doc` is
   * adopted even when the disk fails; listeners told after the persist then hear nothing until a
   * later persist succeeds.
   */
  private async adopt(doc: DesiredDoc, notify: 'after-persist' | 'before-persist' | 'none' = 'after-persist'): Promise<void> {
    if (notify === 'before-persist') {
      this.current = doc
      this.notify(doc)
    }
    try {
      await this.store.persist(doc)
    } finally {
      this.current = doc
    }
    if (this.store.needsCompaction()) {
      // The log already holds everything, so a failed compaction loses nothing; it is tried again
      // after the next persist, which also reports any lasting disk trouble.
      await this.store.compact(doc).catch((error: unknown) => this.log(`desired state: compaction failed: ${messageOf(error)}`))
    }
    if (notify === 'after-persist') this.notify(doc)
  }

  private notify(doc: DesiredDoc): void {
    for (const listener of this.listeners) {
      try {
        listener(doc)
      } catch (error) {
        this.log(`desired state: a change listener threw: ${messageOf(error)}`)
      }
    }
  }

  // --- gossip ------------------------------------------------------------------------------------

  /** Broadcasts one local change. Our own publishes skip our validator: only encodeBroadcast's output goes out. */
  private publish(change: Uint8Array): void {
    const encoded = encodeBroadcast([change])
    if (!encoded.ok) {
      // Peers see a different heads digest in our heartbeats and sync.
      this.log(`desired state: change of ${encoded.error.sizeBytes} bytes is over the gossip limit of ${encoded.error.limitBytes}; left to sync`)
      return
    }
    this.init.host.pubsub.publish(DESIRED_TOPIC, encoded.payload).catch((error: unknown) => {
      if (!this.closed) this.log(`desired state: publishing a change failed (left to sync): ${messageOf(error)}`)
    })
  }

  private readonly validateGossip = (_forwarder: Libp2pPeerId, message: GossipMessage): TopicValidatorResult => {
    const decoded = decodeBroadcast(message.data)
    if (decoded.ok) {
      this.decodedGossip.set(message, decoded.value)
      return TopicValidatorResult.Accept
    }
    this.counters.gossipRejected++
    const author = message.type === 'signed' ? message.from.toString() : 'an unsigned author'
    this.log(`desired state: rejected gossip from ${author}: ${describePayloadError(decoded.error)}`)
    return TopicValidatorResult.Reject
  }

  private readonly receiveGossip = (event: CustomEvent<GossipMessage>): void => {
    const message = event.detail
    if (message.topic !== DESIRED_TOPIC || message.type !== 'signed') return
    const changes = this.decodedGossip.get(message)
    if (changes === undefined) return
    this.decodedGossip.delete(message)
    const from = message.from.toString() as PeerId
    this.enqueue(async () => {
      const received = receiveChanges(this.current, changes)
      this.counters.gossipReceived++
      for (const refused of received.rejected) this.log(`desired state: change ${refused.index} from ${from} refused: ${describePayloadError(refused.error)}`)
      // Adopted even when the heads did not move: the old document is outdated either way, and the
      // new one holds changes waiting for their dependencies.
      if (received.headsChanged) await this.adopt(received.doc, 'before-persist')
      else this.current = received.doc
      return received.missingDeps.length > 0
    }).then(
      (missedSome) => {
        // A broadcast was missed (we were cut off, or it was too large): fetch it by sync.
        if (missedSome) void this.syncWith(from)
      },
      (error: unknown) => {
        if (!this.closed) this.log(`desired state: applying gossip from ${from} failed: ${messageOf(error)}`)
      },
    )
  }

  // --- sync, requesting side ---------------------------------------------------------------------

  private async runSync(peer: PeerId): Promise<SyncOutcome> {
    if (this.closed) return { ok: false, reason: 'the desired replica is closed' }
    this.counters.syncsRun++
    const session = randomBytes(SYNC_SESSION_ID_BYTES)
    let state = newSyncState()
    let received = false
    let answeredEmpty = false
    try {
      for (let round = 0; round <= DESIRED_SYNC_DEFAULTS.maxRounds; round++) {
        // Generated inside the queue: it must see the newest document, not one a pending step outdates.
        const payload = await this.enqueue(async () => {
          const generated = generateSync(this.current, state)
          state = generated.state
          return generated.payload
        })
        if (payload === null && answeredEmpty) return { ok: true, rounds: round, received }
        if (round === DESIRED_SYNC_DEFAULTS.maxRounds) break
        const body = new Uint8Array(SYNC_SESSION_ID_BYTES + (payload?.length ?? 0))
        body.set(session, 0)
        if (payload !== null) body.set(payload, SYNC_SESSION_ID_BYTES)
        const response = await this.init.transport.request(peer, DESIRED_SYNC_PROTOCOL, body, { signal: this.closing.signal })
        answeredEmpty = response.length === 0
        if (answeredEmpty) continue
        const changed = await this.enqueue(async () => {
          const before = headsDigest(this.current)
          const result = receiveSync(this.current, state, response)
          if (!result.ok) {
            // Keep what applied before the failure (receiveSync's contract), then give up on this run.
            await this.adopt(result.doc, headsDigest(result.doc) !== before ? 'before-persist' : 'none')
            throw new Error(`${peer} sent a sync message we cannot use: ${describePayloadError(result.error)}`)
          }
          state = result.state
          if (result.headsChanged) await this.adopt(result.doc, 'before-persist')
          else this.current = result.doc
          return result.headsChanged
        })
        received ||= changed
      }
      return this.syncFailed(peer, `no agreement with ${peer} after ${DESIRED_SYNC_DEFAULTS.maxRounds} rounds`)
    } catch (error) {
      // A peer that is still starting has its connections up before its replica serves the protocol;
      // the next heads comparison with it tries again. Worth counting, not a line in the log.
      const starting = error instanceof RequestError && error.code === 'unsupported'
      return this.syncFailed(peer, messageOf(error), !starting)
    }
  }

  private syncFailed(peer: PeerId, reason: string, log = true): SyncOutcome {
    this.counters.syncFailures++
    if (log && !this.closed) this.log(`desired state: sync with ${peer} failed: ${reason}`)
    return { ok: false, reason }
  }

  // --- sync, responding side ---------------------------------------------------------------------

  /** One round for a remote requester. Throwing makes the transport answer with a remote-error. */
  private serveSync(from: PeerId, request: Uint8Array): Promise<Uint8Array> {
    if (request.length < SYNC_SESSION_ID_BYTES) {
      this.counters.syncFailures++
      return Promise.reject(new Error(`a sync request of ${request.length} bytes is shorter than its ${SYNC_SESSION_ID_BYTES}-byte session id`))
    }
    const key = `${from}/${Buffer.from(request.subarray(0, SYNC_SESSION_ID_BYTES)).toString('hex')}`
    const payload = request.subarray(SYNC_SESSION_ID_BYTES)
    return this.enqueue(async () => {
      const session = this.takeSession(key)
      if (payload.length > 0) {
        const before = headsDigest(this.current)
        const result = receiveSync(this.current, session.state, payload)
        if (!result.ok) {
          // The session is dropped with the failure: the requester starts over with a new one.
          await this.adopt(result.doc, headsDigest(result.doc) !== before ? 'after-persist' : 'none')
          this.counters.syncFailures++
          this.log(`desired state: refused a sync request from ${from}: ${describePayloadError(result.error)}`)
          throw new Error(`unusable sync message: ${describePayloadError(result.error)}`)
        }
        session.state = result.state
        // Persisted before answering: the requester may take our answer as proof we hold its changes.
        if (result.headsChanged) await this.adopt(result.doc)
        else this.current = result.doc
      }
      const generated = generateSync(this.current, session.state)
      session.state = generated.state
      this.keepSession(key, session)
      return generated.payload ?? EMPTY
    })
  }

  /** The session for `key` (removed from the map until keepSession), expiring idle ones first. */
  private takeSession(key: string): ServedSession {
    const now = performance.now()
    for (const [other, session] of this.sessions) {
      if (now - session.lastUsedMs <= DESIRED_SYNC_DEFAULTS.sessionIdleMs) break // least recently used first: the rest are newer
      this.sessions.delete(other)
    }
    const existing = this.sessions.get(key)
    if (existing !== undefined) {
      this.sessions.delete(key)
      return existing
    }
    this.counters.syncsServed++
    return { state: newSyncState(), lastUsedMs: now }
  }

  private keepSession(key: string, session: ServedSession): void {
    session.lastUsedMs = performance.now()
    this.sessions.set(key, session)
    while (this.sessions.size > DESIRED_SYNC_DEFAULTS.maxSessions) {
      const oldest = this.sessions.keys().next().value
      if (oldest === undefined) break
      this.sessions.delete(oldest)
    }
  }
}

function describePayloadError(error: PayloadError): string {
  switch (error.kind) {
    case 'too-large':
      return `${error.sizeBytes} bytes is over the limit of ${error.limitBytes}`
    case 'truncated':
      return `truncated (${error.sizeBytes} bytes)`
    case 'unknown-format':
      return `unknown format version ${error.version}`
    case 'wrong-kind':
      return `payload kind ${error.found} where ${error.expected} was expected`
    case 'malformed':
      return `malformed: ${error.message}`
    case 'bad-change':
      return `change ${error.index} does not parse: ${error.message}`
    case 'rejected':
      return `refused by Automerge: ${error.message}`
  }
}

function describeWarning(warning: StoreWarning): string {
  switch (warning.kind) {
    case 'torn-tail':
      return `${warning.file} ended in a damaged frame at byte ${warning.offsetBytes} (${warning.reason}); dropped ${warning.droppedBytes} bytes`
    case 'corrupt-snapshot':
      return `${warning.file} was damaged (${warning.reason}); moved to ${warning.movedTo}, loaded from genesis plus the log`
    case 'corrupt-log':
      return `${warning.file} was damaged; moved to ${warning.movedTo}, started a new log`
    case 'leftover-temp-file':
      return `removed ${warning.file} left by an interrupted compaction`
    case 'missing-dependencies':
      return `loaded changes whose dependencies are not on disk (${warning.heads.length} missing); sync will bring them`
  }
}

