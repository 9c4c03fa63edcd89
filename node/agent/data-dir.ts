// An agent's data directory: everything that makes a peer the same peer after a restart. `peer init`
// creates it; `peer agent` refuses to start without it, so a typo in --data cannot quietly start a
// new, keyless peer.
//
//   identity.key      the libp2p private key (peer id), 0600
//   swarm.key         the cluster's pre-shared key, 0600: the same file on every peer
//   desired/          the desired-state document (snapshot + log), 0700 with files 0600
//   runtime/          the process driver's task records and logs
//   assignments.json  the tasks this peer runs, with their specs: restarted from here after a reboot, 0600
//   members.json      the members this peer knew: heard from (or found gone) before those tasks restart, 0600
//   control.sock      the control API (HTTP over a unix socket, 0600)
//   ui.token          the web view's token, asked for when it listens beyond loopback (node/web), 0600
//
// Specs hold env values, so what holds specs is private to the agent's user, and made so again on
// open when an older version or a person left it looser (desired/ by the store, crdt/store.ts).

import { chmod, mkdir, stat } from 'node:fs/promises'
import { PRIVATE_FILE_MODE } from '../../io/index.js'
import { join, resolve } from 'node:path'
import {
  createSwarmKeyFile,
  IDENTITY_FILE,
  loadOrCreateIdentity,
  readSwarmKeyFile,
  SetupError,
  type SwarmKey,
} from '../../p2p/index.js'
import { messageOf } from '../../core/index.js'
import { CONTROL_SOCKET_FILE } from './data-dir-location.js'
import { TaskRecords, taskRecordsDir, type TaskRecord } from '../runtime/index.js'
import { ensureUiToken } from '../web/index.js'

export const SWARM_KEY_FILE = 'swarm.key'
export { CONTROL_SOCKET_FILE, defaultDataDir } from './data-dir-location.js'

/** Unix socket paths are limited to 107 bytes on Linux (sun_path). */
const MAX_SOCKET_PATH_BYTES = 107

export interface DataDir {
  readonly root: string
  readonly identity: string
  readonly swarmKey: string
  readonly desired: string
  readonly runtime: string
  readonly assignments: string
  readonly members: string
  readonly socket: string
}

export function dataDirLayout(root: string): DataDir {
  const dir = resolve(root)
  return {
    root: dir,
    identity: join(dir, IDENTITY_FILE),
    swarmKey: join(dir, SWARM_KEY_FILE),
    desired: join(dir, 'desired'),
    runtime: join(dir, 'runtime'),
    assignments: join(dir, 'assignments.json'),
    members: join(dir, 'members.json'),
    socket: join(dir, CONTROL_SOCKET_FILE),
  }
}

export interface InitResult {
  readonly layout: DataDir
  readonly peerId: string
  /** False when the directory was already initialised (init is idempotent). */
  readonly createdIdentity: boolean
  readonly createdSwarmKey: boolean
}

/**
 * Creates the data directory (0700), the peer's identity and the swarm key: a new random one, or the
 * one in `keyFile` (copied from the first host). Running it again changes nothing, but refuses a
 * --key-file that differs from the key already there: replacing a key silently would split the cluster.
 */
export async function initDataDir(root: string, options: { keyFile?: string } = {}): Promise<InitResult> {
  const layout = dataDirLayout(root)
  checkSocketPath(layout)
  const given = options.keyFile === undefined ? undefined : await readSwarmKeyFile(resolve(options.keyFile))
  try {
    await mkdir(layout.root, { recursive: true, mode: 0o700 })
    await chmod(layout.root, 0o700)
  } catch (error) {
    throw new SetupError('identity-unwritable', `cannot create the data directory ${layout.root}: ${messageOf(error)}`)
  }
  const identity = await loadOrCreateIdentity(layout.root)
  await ensureUiToken(layout.root)
  const existing = (await exists(layout.swarmKey)) ? await readSwarmKeyFile(layout.swarmKey) : undefined
  if (existing !== undefined) {
    if (given !== undefined && !sameKey(given, existing)) {
      throw new SetupError(
        'swarm-key-exists',
        `${layout.swarmKey} already holds a different swarm key; remove it first if this peer should move to another cluster`,
      )
    }
    return { layout, peerId: identity.peerId, createdIdentity: identity.created, createdSwarmKey: false }
  }
  await createSwarmKeyFile(layout.swarmKey, given)
  return { layout, peerId: identity.peerId, createdIdentity: identity.created, createdSwarmKey: true }
}

/** Checks that `root` was initialised and reads its swarm key; throws SetupError naming what is missing. */
export async function openDataDir(root: string): Promise<{ layout: DataDir; swarmKey: SwarmKey }> {
  const layout = dataDirLayout(root)
  checkSocketPath(layout)
  if (!(await exists(layout.root))) {
    throw new SetupError('swarm-key-missing', `the data directory ${layout.root} does not exist; create it with: peer init --data ${root}`)
  }
  if (!(await exists(layout.swarmKey))) {
    throw new SetupError('swarm-key-missing', `${layout.root} has no swarm key; run: peer init --data ${root} (add --key-file <swarm.key> to join an existing cluster)`)
  }
  const swarmKey = await readSwarmKeyFile(layout.swarmKey)
  if (await exists(layout.assignments)) await chmod(layout.assignments, PRIVATE_FILE_MODE)
  return { layout, swarmKey }
}

function checkSocketPath(layout: DataDir): void {
  if (Buffer.byteLength(layout.socket) > MAX_SOCKET_PATH_BYTES) {
    throw new SetupError('bad-address', `the data directory path is too long for a unix socket (${layout.socket} is over ${MAX_SOCKET_PATH_BYTES} bytes); use a shorter --data`)
  }
}

function sameKey(a: SwarmKey, b: SwarmKey): boolean {
  return Buffer.from(a.bytes).equals(Buffer.from(b.bytes))
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}

/**
 * The process driver's task records in an agent's data directory, read beside a running agent (tests,
 * benchmarks) without changing anything.
 */
export async function observeTaskRecords(dataDir: string): Promise<TaskRecord[]> {
  return (await new TaskRecords(taskRecordsDir(dataDirLayout(dataDir).runtime)).readAll({ observe: true })).records
}
