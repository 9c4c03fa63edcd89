// Crash-safe persistence of the desired-state document in one directory:
//
//   desired-state.snapshot   magic "PEERSNP1", then one frame holding Automerge.save(doc)
//   desired-state.log        magic "PEERLOG1", then frames, each holding the changes of one persist
//                            (Automerge.saveSince the previous persist)
//
// `persist` appends a frame and fdatasyncs before it resolves: a resolved persist survives kill -9
// and power loss. `compact` writes a new snapshot to a temporary file, fsyncs it, renames it over the
// old one and fsyncs the directory, then replaces the log the same way. A crash between the two
// renames leaves a snapshot plus a log of changes it already holds; loading applies them again, which
// Automerge ignores. A torn final frame is dropped on open, with a warning, and the log is truncated
// to its last good frame so later appends are not hidden behind it.
//
// Order of operations for the agent: persist a local change *before* broadcasting it or reporting it
// done, so no peer ever holds a change this peer could lose.

import { constants as fsConstants } from 'node:fs'
import { mkdir, open, readdir, readFile, rename, rm, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { makePrivate, PRIVATE_DIR_MODE, syncDirectory, writeAll, writeFileDurably } from '../io/index.js'
import * as Automerge from '@automerge/automerge'
import { encodeFrame, scanFrames } from './framing.js'
import { newDocument } from './genesis.js'
import { rebuildDocument } from './rebuild.js'
import { repairedView, watchConflicts } from './view-repair.js'
import type { DesiredDoc, DesiredStateDocument } from './schema.js'

export const SNAPSHOT_FILE = 'desired-state.snapshot'
export const LOG_FILE = 'desired-state.log'
const TEMP_SUFFIX = '.tmp'
const SNAPSHOT_MAGIC = Buffer.from('PEERSNP1', 'latin1')
const LOG_MAGIC = Buffer.from('PEERLOG1', 'latin1')

export interface StoreInit {
  /** The Automerge actor this process edits under (genesis.ts `peerActor`). */
  readonly actor: string
  /**
   * `needsCompaction` turns true once the log is larger than both this and the snapshot. Loading
   * replays the log frame by frame, which is slower per byte than loading a snapshot; 256 KiB keeps
   * the replay to tens of milliseconds, while compacting rewrites the whole snapshot, so it should not
   * happen on every small change of a large document.
   */
  readonly compactAfterLogBytes?: number
  /**
   * Rebuild the loaded document from its history in batches (rebuild.ts). Off by default: it makes
   * opening ~4× slower and raises resident memory by ~40 MB for 1,000 services (Automerge's memory
   * never shrinks), to make later writes steady (~2 ms) on documents of several thousand services
   * where, after a plain load, some writes took up to 50 ms.
   */
  readonly rebuildOnOpen?: boolean
}

export const DEFAULT_COMPACT_AFTER_LOG_BYTES = 256 * 1024

export type StoreWarning =
  /** The log ended in a partial or damaged frame, dropped from `offsetBytes` on (the file was truncated). */
  | { kind: 'torn-tail'; file: string; offsetBytes: number; droppedBytes: number; reason: string }
  /** The snapshot did not check out; it was moved aside and loading went on from genesis plus the log. */
  | { kind: 'corrupt-snapshot'; file: string; movedTo: string; reason: string }
  /** The log did not start with its magic; it was moved aside and a new one started. */
  | { kind: 'corrupt-log'; file: string; movedTo: string }
  /** A temporary file from an interrupted compaction, removed. */
  | { kind: 'leftover-temp-file'; file: string }
  /** Changes loaded whose dependencies are not on disk; they apply once sync brings those. */
  | { kind: 'missing-dependencies'; heads: string[] }

export interface OpenedStore {
  readonly store: DesiredStateStore
  readonly doc: DesiredDoc
  readonly warnings: StoreWarning[]
}

/**
 * Opens (creating if needed) the store in `dir` and loads the document. Throws only on I/O errors.
 * The directory is made 0700 and its files 0600 — also when they were created with looser modes — as
 * the document holds every service's env values.
 */
export async function openStore(dir: string, init: StoreInit): Promise<OpenedStore> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  await makePrivate(dir)
  const warnings: StoreWarning[] = []
  for (const name of await readdir(dir)) {
    if (name.endsWith(TEMP_SUFFIX)) {
      await rm(join(dir, name), { force: true })
      warnings.push({ kind: 'leftover-temp-file', file: name })
    }
  }
  const snapshot = await loadSnapshot(dir, init.actor, warnings)
  let doc = snapshot.doc
  const logPath = join(dir, LOG_FILE)
  const logData = await readIfExists(logPath)
  let logBytes = LOG_MAGIC.length
  if (logData === undefined || logData.length < LOG_MAGIC.length) {
    // Missing, or created but torn before its magic was complete: nothing was ever acknowledged in it.
    await writeFileDurably(dir, LOG_FILE, LOG_MAGIC)
  } else if (!LOG_MAGIC.equals(logData.subarray(0, LOG_MAGIC.length))) {
    const movedTo = await moveAside(dir, LOG_FILE)
    warnings.push({ kind: 'corrupt-log', file: LOG_FILE, movedTo })
    await writeFileDurably(dir, LOG_FILE, LOG_MAGIC)
  } else {
    const scanned = scanFrames(logData, LOG_MAGIC.length)
    if (scanned.payloads.length > 0) {
      const watch = watchConflicts()
      doc = repairedView(Automerge.loadIncremental(doc, Buffer.concat(scanned.payloads), watch.options), watch)
    }
    logBytes = scanned.goodBytes
    if (scanned.problem !== undefined) {
      warnings.push({ kind: 'torn-tail', file: LOG_FILE, offsetBytes: scanned.goodBytes, droppedBytes: logData.length - scanned.goodBytes, reason: scanned.problem })
      const handle = await open(logPath, 'r+')
      try {
        await handle.truncate(scanned.goodBytes)
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
  }
  const missing = Automerge.getMissingDeps(doc, Automerge.getHeads(doc))
  if (missing.length > 0) warnings.push({ kind: 'missing-dependencies', heads: missing })
  if (init.rebuildOnOpen === true) doc = rebuildDocument(doc, init.actor)
  const log = await open(logPath, fsConstants.O_WRONLY | fsConstants.O_APPEND)
  const store = new DesiredStateStore(dir, log, {
    logBytes,
    snapshotBytes: snapshot.bytes,
    savedHeads: Automerge.getHeads(doc),
    compactAfterLogBytes: init.compactAfterLogBytes ?? DEFAULT_COMPACT_AFTER_LOG_BYTES,
  })
  return { store, doc, warnings }
}

interface StoreState {
  logBytes: number
  snapshotBytes: number
  savedHeads: string[]
  readonly compactAfterLogBytes: number
}

export class DesiredStateStore {
  /** Every operation runs after the previous one settles: appends and compactions never interleave. */
  private queue: Promise<unknown> = Promise.resolve()
  private broken: Error | undefined
  private closed = false

  constructor(private readonly dir: string, private log: FileHandle, private readonly state: StoreState) {}

  get logBytes(): number {
    return this.state.logBytes
  }

  get snapshotBytes(): number {
    return this.state.snapshotBytes
  }

  /** True once the log has outgrown its threshold; the agent then calls `compact` when idle. */
  needsCompaction(): boolean {
    return this.state.logBytes > Math.max(this.state.compactAfterLogBytes, this.state.snapshotBytes)
  }

  /**
   * Makes everything in `doc` that is not yet on disk durable: one frame, then fdatasync. Resolves
   * with the bytes appended (0 when there was nothing new). `doc` must descend from the documents
   * persisted before (the same replica); pass the newest one.
   */
  persist(doc: DesiredDoc): Promise<{ appendedBytes: number }> {
    return this.run(async () => {
      const data = changesSince(doc, this.state.savedHeads)
      if (data.length === 0) return { appendedBytes: 0 }
      const frame = encodeFrame(data)
      try {
        await writeAll(this.log, frame)
        await this.log.datasync()
      } catch (error) {
        // A partial frame left at the end would hide every later append from the next load.
        await this.rollBack(error as Error)
        throw error
      }
      this.state.logBytes += frame.length
      this.state.savedHeads = Automerge.getHeads(doc)
      return { appendedBytes: frame.length }
    })
  }

  /**
   * Replaces snapshot and log with one snapshot of `doc`. `doc` must hold everything persisted so
   * far; otherwise this refuses (throws), because the log it would discard holds changes `doc` lacks.
   */
  compact(doc: DesiredDoc): Promise<{ snapshotBytes: number }> {
    return this.run(async () => {
      if (!Automerge.hasHeads(doc, this.state.savedHeads)) {
        throw new Error('compact: the document lacks changes already persisted; pass the newest document')
      }
      const snapshot = Automerge.save(doc)
      await writeFileDurably(this.dir, SNAPSHOT_FILE, Buffer.concat([SNAPSHOT_MAGIC, encodeFrame(snapshot)]))
      await this.log.close()
      await writeFileDurably(this.dir, LOG_FILE, LOG_MAGIC)
      this.log = await open(join(this.dir, LOG_FILE), fsConstants.O_WRONLY | fsConstants.O_APPEND)
      this.state.logBytes = LOG_MAGIC.length
      this.state.snapshotBytes = snapshot.length
      this.state.savedHeads = Automerge.getHeads(doc)
      return { snapshotBytes: snapshot.length }
    })
  }

  /** Waits for pending operations, then closes the log. */
  close(): Promise<void> {
    return this.run(async () => {
      this.closed = true
      await this.log.close()
    })
  }

  private run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.queue.then(() => {
      if (this.closed) throw new Error('the desired-state store is closed')
      if (this.broken !== undefined) throw new Error(`the desired-state store failed earlier and must be reopened: ${this.broken.message}`)
      return operation()
    })
    this.queue = result.catch(() => undefined)
    return result
  }

  private async rollBack(cause: Error): Promise<void> {
    try {
      await this.log.truncate(this.state.logBytes)
      await this.log.datasync()
    } catch {
      this.broken = cause
    }
  }
}

function changesSince(doc: DesiredDoc, heads: string[]): Uint8Array {
  // saveSince needs `heads` to be in `doc`; a document from another lineage gets saved whole, which
  // is correct (loading ignores what it already has), only larger.
  return Automerge.hasHeads(doc, heads) ? Automerge.saveSince(doc, heads) : Automerge.save(doc)
}

async function loadSnapshot(dir: string, actor: string, warnings: StoreWarning[]): Promise<{ doc: DesiredDoc; bytes: number }> {
  const data = await readIfExists(join(dir, SNAPSHOT_FILE))
  if (data === undefined) return { doc: newDocument(actor), bytes: 0 }
  let reason: string
  if (data.length < SNAPSHOT_MAGIC.length || !SNAPSHOT_MAGIC.equals(data.subarray(0, SNAPSHOT_MAGIC.length))) {
    reason = 'bad magic'
  } else {
    const scanned = scanFrames(data, SNAPSHOT_MAGIC.length)
    const payload = scanned.payloads[0]
    if (scanned.problem !== undefined || payload === undefined || scanned.payloads.length !== 1) {
      reason = scanned.problem ?? 'not exactly one frame'
    } else {
      try {
        return { doc: Automerge.load<DesiredStateDocument>(payload, { actor }), bytes: payload.length }
      } catch (error) {
        reason = `automerge: ${(error as Error).message}`
      }
    }
  }
  const movedTo = await moveAside(dir, SNAPSHOT_FILE)
  warnings.push({ kind: 'corrupt-snapshot', file: SNAPSHOT_FILE, movedTo, reason })
  return { doc: newDocument(actor), bytes: 0 }
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

async function moveAside(dir: string, name: string): Promise<string> {
  const existing = new Set(await readdir(dir))
  let n = 1
  while (existing.has(`${name}.damaged-${n}`)) n++
  const target = `${name}.damaged-${n}`
  await rename(join(dir, name), join(dir, target))
  await syncDirectory(dir)
  return target
}
