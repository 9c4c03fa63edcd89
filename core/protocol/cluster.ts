// The cluster as one peer sees it: every peer's latest advert merged with its membership status and
// the operator's settings into PeerViews, and an index of which peers hold tasks of each service, so
// one service can be reconciled without scanning every peer.

import type { PeerId, ServiceName, SlotId } from '../placement/ids.js'
import { addTask, type PeerLookup, type ServiceTasks } from '../placement/reconcile.js'
import type { TaskState, TaskView } from '../placement/view.js'
import type { PeerState, PeerView } from '../placement/view.js'
import type { PeerSettings } from './desired.js'
import { advertIsNewer, type Advert, type MemberStatus } from './messages.js'
import { advertEntryHash, BucketSummary } from './bucket-digest.js'
import { PeerBytes, PeerNumbers, PeerTable } from './peer-numbers.js'

export class ClusterState implements PeerLookup {
  /**
   * Dead members whose slots are held because their whole site is out of reach (site-cut.ts): they
   * show as suspect — keeping their tasks, taking no new ones — except to services that `keepsCutOff`
   * says no for (`partition: majority`), which see them dead.
   */
  private readonly cutOff = new Set<PeerId>()

  /** Every peer's latest advert, in the order peers were first heard of. */
  private readonly adverts: PeerTable<Advert>
  /** Each member's status (STATUS_CODES), as the machine last set it. */
  private readonly statuses: PeerBytes
  private settings: ReadonlyMap<PeerId, PeerSettings> = new Map()
  /**
   * Views whose labels the operator's settings change: a new object each, built once. A view with
   * the advert's own labels is not kept here but shared by every ClusterState holding that advert
   * (plainView): caching it per peer cost each simulated machine a Map entry per member, and
   * building it again is a lookup.
   */
  private readonly views = new Map<PeerId, PeerView>()
  /** Peers whose advert lists tasks of a service. */
  private readonly holders = new Map<ServiceName, Set<PeerId>>()
  /** Service indexes built since the last change that touched them. */
  private readonly indexes = new Map<ServiceName, ServiceTasks>()
  /** The adverts' (peer, incarnation, version) bucket summary for anti-entropy, kept current by putAdvert(). */
  readonly summary = new BucketSummary()

  /**
   * `keepsCutOff(service)`: whether the service's tasks on cut-off members are held (specs change only
   * with setSettings, which clears every index). `numbers`: the peer numbering of the per-peer
   * columns (peer-numbers.ts); the simulator shares one between its machines.
   */
  constructor(private readonly keepsCutOff: (service: ServiceName) => boolean = () => true, numbers: PeerNumbers = new PeerNumbers()) {
    this.adverts = new PeerTable(numbers)
    this.statuses = new PeerBytes(numbers)
  }

  /** Stores an advert if newer than the one held; returns the services whose tasks it touched (shared: read only), or null if stale. */
  putAdvert(advert: Advert): ReadonlySet<ServiceName> | null {
    const known = this.adverts.get(advert.peer)
    if (!advertIsNewer(advert, known)) return null
    const previous = known === undefined ? undefined : groupByService(known)
    const groups = groupByService(advert)
    const touched = touchedServices(previous, groups)
    for (const service of touched) {
      let set = this.holders.get(service)
      if (groups.has(service)) {
        if (set === undefined) this.holders.set(service, (set = new Set()))
        set.add(advert.peer)
      } else {
        set?.delete(advert.peer)
      }
    }
    if (known !== undefined) this.summary.toggle(known.peer, entryHashOf(known))
    this.summary.toggle(advert.peer, entryHashOf(advert))
    this.adverts.set(advert)
    this.views.delete(advert.peer)
    for (const service of touched) this.indexes.delete(service)
    return touched
  }

  advert(peer: PeerId): Advert | undefined {
    return this.adverts.get(peer)
  }

  allAdverts(): IterableIterator<Advert> {
    return this.adverts.values()
  }

  /** Services with tasks on `peer` (to re-reconcile when its status changes). */
  servicesOn(peer: PeerId): Set<ServiceName> {
    return new Set(this.grouped(peer)?.keys() ?? [])
  }

  setStatus(peer: PeerId, status: MemberStatus): void {
    this.statuses.set(peer, STATUS_CODES[status])
    this.views.delete(peer)
    for (const service of this.grouped(peer)?.keys() ?? []) this.indexes.delete(service)
  }

  /** A dead member's slots are held by a site cut (or no longer). */
  setCutOff(peer: PeerId, held: boolean): void {
    if (held) this.cutOff.add(peer)
    else this.cutOff.delete(peer)
    this.setStatus(peer, this.status(peer))
  }

  setSettings(settings: ReadonlyMap<PeerId, PeerSettings>): void {
    this.settings = settings
    this.views.clear()
    this.indexes.clear()
  }

  get(id: PeerId): PeerView | undefined {
    const cached = this.views.get(id)
    if (cached !== undefined) return cached
    const advert = this.adverts.get(id)
    if (advert === undefined) return undefined
    const view = this.build(advert)
    if (overridesLabels(this.settings.get(id))) this.views.set(id, view)
    return view
  }

  *values(): IterableIterator<PeerView> {
    for (const advert of this.adverts.values()) yield this.get(advert.peer)!
  }

  /** One service's tasks, indexed for reconcileService (cached until an advert or status touches it). */
  serviceTasks(service: ServiceName): ServiceTasks {
    const cached = this.indexes.get(service)
    if (cached !== undefined) return cached
    const bySlot = new Map<SlotId, TaskView[]>()
    const lost = new Set<SlotId>()
    const ended = new Map<string, TaskState>()
    const entry = { bySlot, lost, ended }
    const desired = new Set<string>([service])
    const orphans: TaskView[] = []
    const keepsCutOff = this.cutOff.size === 0 || this.keepsCutOff(service)
    for (const peer of this.holders.get(service) ?? []) {
      const view = this.get(peer)
      if (view === undefined) continue
      const dead = view.state === 'dead' || (!keepsCutOff && this.cutOff.has(peer))
      for (const task of this.grouped(peer)?.get(service) ?? []) addTask(task, dead, desired, () => entry, orphans)
    }
    this.indexes.set(service, entry)
    return entry
  }

  /**
   * The highest placement epoch any advert held here gives `slot`, on live and dead peers alike
   * (a dead peer's lost task is the placement a failover follows); 0 when none does.
   */
  highestEpoch(service: ServiceName, slot: SlotId): number {
    let highest = 0
    for (const peer of this.holders.get(service) ?? []) {
      for (const task of this.grouped(peer)?.get(service) ?? []) if (task.slot === slot) highest = Math.max(highest, task.epoch ?? 0)
    }
    return highest
  }

  /** Services that have tasks somewhere, for finding tasks of services no longer desired. */
  knownServices(): IterableIterator<ServiceName> {
    return this.holders.keys()
  }

  /**
   * The tasks of `peer`'s advert grouped by service, so one service's index costs O(its tasks). Not
   * kept per peer here: the grouping is cached with the advert object (groupByService), which the
   * simulator's machines share, so a second map of N entries per machine would only point at it.
   */
  private grouped(peer: PeerId): ReadonlyMap<ServiceName, TaskView[]> | undefined {
    const advert = this.adverts.get(peer)
    return advert === undefined ? undefined : groupByService(advert)
  }

  /** A member's status as last set ('alive' when never set: an advert came before any record). */
  private status(peer: PeerId): MemberStatus {
    return STATUSES[this.statuses.get(peer)] ?? 'alive'
  }

  private build(advert: Advert): PeerView {
    const status = this.status(advert.peer)
    const settings = this.settings.get(advert.peer)
    let state: PeerState
    if (status === 'dead' && this.cutOff.has(advert.peer)) state = 'suspect'
    else if (status === 'dead' || status === 'left') state = 'dead'
    else if (status === 'suspect') state = 'suspect'
    else if (settings?.drain) state = 'draining'
    // A peer with a full disk can start nothing: placed around like a cordoned one, keeping what it runs.
    else if (settings?.cordon || advert.diskFull === true) state = 'cordoned'
    else state = 'alive'
    if (overridesLabels(settings)) {
      const labels = { ...advert.labels, ...settings.labels }
      return { id: advert.peer, state, capacity: advert.capacity, allocated: advert.allocated, labels, drivers: advert.drivers, tasks: advert.tasks }
    }
    return plainView(advert, state)
  }
}

/** Whether the operator's settings for a peer change its labels (its view is then its own). */
function overridesLabels(settings: PeerSettings | undefined): settings is PeerSettings {
  return settings !== undefined && Object.keys(settings.labels).length > 0
}

const STATUS_CODES: Readonly<Record<MemberStatus, number>> = { alive: 1, suspect: 2, dead: 3, left: 4 }
/** STATUS_CODES inverted; index 0 (no status set) is undefined. */
const STATUSES: ReadonlyArray<MemberStatus | undefined> = [undefined, 'alive', 'suspect', 'dead', 'left']

/**
 * The view of an advert in a given state, with the advert's own labels: a value made of the advert's
 * parts, so every ClusterState that holds the same advert object (the simulator's peers all do) can
 * share one instead of building its own — N viewers of N adverts would otherwise make N² of them.
 */
const plainViews = new WeakMap<Advert, Partial<Record<PeerState, PeerView>>>()

function plainView(advert: Advert, state: PeerState): PeerView {
  let byState = plainViews.get(advert)
  if (byState === undefined) plainViews.set(advert, (byState = {}))
  let view = byState[state]
  if (view === undefined) {
    byState[state] = view = { id: advert.peer, state, capacity: advert.capacity, allocated: advert.allocated, labels: advert.labels, drivers: advert.drivers, tasks: advert.tasks }
  }
  return view
}

/**
 * An advert's tasks grouped by service. Adverts are immutable values, so the grouping is cached per
 * advert object: where many peers hold the same object (the simulator) it is computed once.
 */
const groupings = new WeakMap<Advert, ReadonlyMap<ServiceName, TaskView[]>>()

function groupByService(advert: Advert): ReadonlyMap<ServiceName, TaskView[]> {
  let groups = groupings.get(advert)
  if (groups !== undefined) return groups
  const built = new Map<ServiceName, TaskView[]>()
  for (const task of advert.tasks) {
    const group = built.get(task.service)
    if (group === undefined) built.set(task.service, [task])
    else group.push(task)
  }
  groupings.set(advert, built)
  return built
}

/**
 * The services whose tasks differ between two groupings of one peer's adverts. Only services whose
 * tasks on this peer really changed are touched: a claim of one task must not make every peer
 * re-reconcile every other service the claimer runs. Groupings are immutable and, where many peers
 * hold the same advert objects (the simulator), shared: the answer for a pair is kept with the new
 * grouping, so the N receivers of one advert that held the same previous one compare once.
 */
const touchedBetween = new WeakMap<ReadonlyMap<ServiceName, TaskView[]>, { readonly from: ReadonlyMap<ServiceName, TaskView[]> | undefined; readonly touched: ReadonlySet<ServiceName> }>()

function touchedServices(previous: ReadonlyMap<ServiceName, TaskView[]> | undefined, groups: ReadonlyMap<ServiceName, TaskView[]>): ReadonlySet<ServiceName> {
  const cached = touchedBetween.get(groups)
  if (cached !== undefined && cached.from === previous) return cached.touched
  const touched = new Set<ServiceName>()
  for (const [service, group] of groups) if (!sameTasks(previous?.get(service), group)) touched.add(service)
  for (const service of previous?.keys() ?? []) if (!groups.has(service)) touched.add(service)
  touchedBetween.set(groups, { from: previous, touched })
  return touched
}

/** An advert's bucket-summary hash, once per advert object (the simulator's peers share them). */
const entryHashes = new WeakMap<Advert, [number, number]>()

function entryHashOf(advert: Advert): [number, number] {
  let hash = entryHashes.get(advert)
  if (hash === undefined) entryHashes.set(advert, (hash = advertEntryHash(advert.peer, advert.incarnation, advert.version)))
  return hash
}

function sameTasks(a: readonly TaskView[] | undefined, b: readonly TaskView[]): boolean {
  if (a === undefined || a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!
    const y = b[i]!
    if (x.slot !== y.slot || x.state !== y.state || x.specHash !== y.specHash || x.since !== y.since || x.epoch !== y.epoch) return false
  }
  return true
}
