// Desired-state document benchmarks. One JSON line per measurement:
//   {"bench":"crdt","case":"...","ms":...,...}
// Run: node --import tsx bench/crdt.ts [section]

import { spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as Automerge from '@automerge/automerge'
import { peerId, type PeerId } from '../core/placement/ids.js'
import { validateServices, type ServiceSpec } from '../core/service-spec/index.js'
import {
  apply, desiredState, encodeBroadcast, generateSync, newDocument, newSyncState, openStore, peerActor, receiveSync, scale,
  rebuildDocument, type DesiredDoc, type DesiredStateDocument, type SyncState,
} from '../crdt/index.js'
import { percentile } from '../sim/metrics.js'

const SERVICES = 1_000

function report(name: string, ms: number, extra: Record<string, number> = {}): void {
  console.log(JSON.stringify({ bench: 'crdt', case: name, ms: Math.round(ms * 100) / 100, ...extra }))
}

function time<T>(run: () => T): { value: T; ms: number } {
  const start = performance.now()
  const value = run()
  return { value, ms: performance.now() - start }
}

function actorFor(peer: PeerId, n: number): string {
  const nonce = new Uint8Array(8)
  new DataView(nonce.buffer).setUint32(4, n)
  return peerActor(peer, nonce)
}

/** Services shaped like a small real deployment: image, command, env, a port, a constraint, a health check. */
function services(count: number): ServiceSpec[] {
  const document = {
    services: Object.fromEntries(Array.from({ length: count }, (_, i) => [`svc-${i}`, {
      image: `registry.local/app-${i}:1.${i % 10}`,
      command: ['/app', '--port', '8080'],
      env: { LOG_LEVEL: 'info', SERVICE_INDEX: String(i) },
      replicas: 1 + (i % 5),
      resources: { cpu: '250m', memory: '128Mi' },
      ports: [`${10_000 + i}:8080`],
      constraints: ['zone in (eu-1, eu-2)'],
      healthcheck: { command: ['wget', '-q', '-O-', 'http://localhost:8080/health'], interval: '5s' },
    }])),
  }
  const result = validateServices(document)
  if (!result.ok) throw new Error(JSON.stringify(result.errors.slice(0, 3)))
  return result.services
}

function must<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(JSON.stringify(result))
  return result as Extract<T, { ok: true }>
}

/** Sync protocol between two documents until both are quiet. */
function syncUntilQuiet(server: DesiredDoc, client: DesiredDoc): { client: DesiredDoc; roundTrips: number; bytes: number } {
  let serverState: SyncState = newSyncState()
  let clientState: SyncState = newSyncState()
  let roundTrips = 0
  let bytes = 0
  for (;;) {
    const fromClient = generateSync(client, clientState)
    clientState = fromClient.state
    if (fromClient.payload !== null) {
      bytes += fromClient.payload.length
      const got = must(receiveSync(server, serverState, fromClient.payload))
      server = got.doc
      serverState = got.state
    }
    const fromServer = generateSync(server, serverState)
    serverState = fromServer.state
    if (fromServer.payload !== null) {
      bytes += fromServer.payload.length
      const got = must(receiveSync(client, clientState, fromServer.payload))
      client = got.doc
      clientState = got.state
    }
    if (fromClient.payload === null && fromServer.payload === null) return { client, roundTrips, bytes }
    roundTrips++
  }
}

/**
 * Mean time of one write (a scale of a different service each time) over `count` writes, and the
 * document after them: an Automerge document is linear, so the one passed in must not be used again.
 */
function writes(start: DesiredDoc, peer: PeerId, count = 200): { ms: number; doc: DesiredDoc } {
  let doc = start
  const begin = performance.now()
  for (let i = 0; i < count; i++) doc = must(scale(doc, `svc-${(i * 37) % SERVICES}`, 11 + (i % 3), peer, 9_000 + i)).doc
  return { ms: (performance.now() - begin) / count, doc }
}

/** The 1,000-service document built the way a cluster builds it: one apply per service. */
function deployed(peer: PeerId, specs: readonly ServiceSpec[], n: number): { doc: DesiredDoc; changeSizes: number[] } {
  let doc = newDocument(actorFor(peer, n))
  const changeSizes: number[] = []
  for (const spec of specs) {
    const result = must(apply(doc, [spec], peer, 2_000))
    doc = result.doc
    changeSizes.push(result.change!.length)
  }
  return { doc, changeSizes }
}

// Each section runs in its own process: every Automerge document in a process shares one wasm heap,
// and large documents left from one case slowed the next by up to 6×, which an agent (one document
// per process) never sees.
const SECTIONS: Record<string, (peer: PeerId, specs: ServiceSpec[]) => Promise<void> | void> = {
  apply(peer, specs) {
    const bulk = time(() => must(apply(newDocument(actorFor(peer, 1)), specs, peer, 1_000)))
    report('apply-1000-services-one-change', bulk.ms, { changeBytes: bulk.value.change!.length })
    const savedBulk = time(() => Automerge.save(bulk.value.doc))
    report('snapshot-1000-services-one-change', savedBulk.ms, { bytes: savedBulk.value.length })
    Automerge.free(bulk.value.doc)
    const oneByOne = time(() => deployed(peer, specs, 2))
    report('apply-1000-services-1000-changes', oneByOne.ms, { perApplyMs: oneByOne.ms / SERVICES })
    const broadcast = encodeBroadcast([Automerge.getLastLocalChange(oneByOne.value.doc)!])
    report('broadcast-one-service-apply', 0, { payloadBytes: broadcast.ok ? broadcast.payload.length : -1, medianChangeBytes: percentile(oneByOne.value.changeSizes, 50) })
    const saved = time(() => Automerge.save(oneByOne.value.doc))
    report('snapshot-1000-services-1000-changes', saved.ms, { bytes: saved.value.length })
  },

  materialise(peer, specs) {
    let { doc } = deployed(peer, specs, 2)
    const first = time(() => desiredState(doc))
    report('desired-state-1000-services-first', first.ms, { services: first.value.services.length })
    const scaled = time(() => must(scale(doc, 'svc-500', 9, peer, 3_000)))
    report('scale-one-service-in-1000', scaled.ms, { changeBytes: scaled.value.change!.length })
    doc = scaled.value.doc
    report('desired-state-after-one-edit', time(() => desiredState(doc)).ms)
    report('write-in-memory-document', writes(doc, peer).ms)
  },

  load(peer, specs) {
    const saved = Automerge.save(deployed(peer, specs, 2).doc)
    const loaded = time(() => Automerge.load<DesiredStateDocument>(saved, { actor: actorFor(peer, 10) }))
    report('load-1000-services', loaded.ms)
    const rebuilt = time(() => rebuildDocument(loaded.value, actorFor(peer, 11)))
    report('rebuild-1000-services', rebuilt.ms)
    report('write-after-plain-load', writes(loaded.value, peer).ms)
    report('write-after-rebuild', writes(rebuilt.value, peer).ms)
  },

  async store(peer, specs) {
    const dir = await mkdtemp(join(tmpdir(), 'peer-bench-'))
    try {
      const opened = await openStore(dir, { actor: actorFor(peer, 3), compactAfterLogBytes: Number.MAX_SAFE_INTEGER })
      let stored = opened.doc
      const persistMs: number[] = []
      for (const spec of specs) {
        stored = must(apply(stored, [spec], peer, 4_000)).doc
        const start = performance.now()
        await opened.store.persist(stored)
        persistMs.push(performance.now() - start)
      }
      report('persist-one-apply-with-fsync', percentile(persistMs, 50), { p99Ms: percentile(persistMs, 99), logBytes: opened.store.logBytes })
      await opened.store.close()
      Automerge.free(stored)
      const fromLog = performance.now()
      const replayed = await openStore(dir, { actor: actorFor(peer, 4) })
      report('store-open-1000-frame-log', performance.now() - fromLog)
      const compacted = await replayed.store.compact(replayed.doc)
      await replayed.store.close()
      Automerge.free(replayed.doc)
      const fromSnapshot = performance.now()
      const reopened = await openStore(dir, { actor: actorFor(peer, 5) })
      report('store-open-snapshot', performance.now() - fromSnapshot, { snapshotBytes: compacted.snapshotBytes })
      const afterOpen = writes(reopened.doc, peer)
      report('write-after-store-open', afterOpen.ms)
      await reopened.store.close()
      Automerge.free(afterOpen.doc)
      const withRebuild = performance.now()
      const rebuiltStore = await openStore(dir, { actor: actorFor(peer, 12), rebuildOnOpen: true })
      report('store-open-snapshot-rebuild', performance.now() - withRebuild)
      report('write-after-store-open-rebuild', writes(rebuiltStore.doc, peer).ms)
      await rebuiltStore.store.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  },

  merge(peer, specs) {
    // Two forks of the 1,000-service document, 500 edits each (one change per edit), then a merge.
    const { doc } = deployed(peer, specs, 2)
    let left = Automerge.clone(doc, { actor: actorFor(peerId('left'), 6) })
    let right = Automerge.clone(doc, { actor: actorFor(peerId('right'), 7) })
    const edits = time(() => {
      for (let i = 0; i < 500; i++) {
        left = must(scale(left, `svc-${i}`, 10 + (i % 7), peerId('left'), 5_000 + i)).doc
        right = must(scale(right, `svc-${i + 250}`, 20 + (i % 7), peerId('right'), 5_000 + i)).doc
      }
    })
    report('fork-edits-500-plus-500', edits.ms, { perEditMs: edits.ms / 1_000 })
    const rightChanges = Automerge.getChanges(doc, right)
    const merged = time(() => Automerge.applyChanges(left, rightChanges)[0])
    report('merge-forks-500-plus-500-edits', merged.ms, { changesMerged: rightChanges.length })
    report('desired-state-after-merge', time(() => desiredState(merged.value)).ms)
  },

  sync(peer, specs) {
    // A fresh replica (genesis only) catching up by the sync protocol.
    const { doc } = deployed(peer, specs, 2)
    const caughtUp = time(() => syncUntilQuiet(doc, newDocument(actorFor(peerId('fresh'), 8))))
    report('fresh-replica-sync-catch-up', caughtUp.ms, {
      roundTrips: caughtUp.value.roundTrips,
      bytes: caughtUp.value.bytes,
      changes: Automerge.getAllChanges(doc).length,
    })
    report('write-after-sync-catch-up', writes(caughtUp.value.client, peerId('fresh')).ms)
  },
}

async function main(): Promise<void> {
  const section = process.argv[2]
  if (section === undefined) {
    for (const name of Object.keys(SECTIONS)) {
      const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), name], { stdio: 'inherit' })
      if (child.status !== 0) throw new Error(`bench section ${name} failed`)
    }
    return
  }
  const run = SECTIONS[section]
  if (run === undefined) throw new Error(`unknown section ${section}; one of ${Object.keys(SECTIONS).join(', ')}`)
  const peer = peerId('bench-peer')
  const specs = services(SERVICES)
  // Warm up the wasm module and the JIT on a small document so the first case is not charged for it.
  must(apply(newDocument(actorFor(peer, 99)), specs.slice(0, 20), peer, 0))
  await run(peer, specs)
}

await main()
