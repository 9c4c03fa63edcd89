// Where a task's secrets become files: on a memory-only file system, never on disk. The agent opens
// the secrets a spec lists just before it starts the task and writes one file per secret into a
// directory of that task; the driver shows the directory to the task (PEER_SECRETS_DIR for a process,
// a read-only bind mount at /run/secrets for a container). The directory goes when the task ends.
//
// Layout: <root>/peer-<uid>/<peer id>/<slot file name>.<specHash>/<file name>
//   root       /dev/shm when it is a tmpfs (read from /proc/mounts), else $XDG_RUNTIME_DIR when that
//              is one; with neither, tasks that list secrets are refused with the reason, and tasks
//              without secrets run as ever.
//   peer-<uid> this user's, 0700, checked to be a directory we own (not a link someone else planted).
//   <peer id>  one per agent, 0700: agents sharing a host never see each other's files.
//   file name  the secret's target when that is a file name, else its name (a secret with an absolute
//              target is kept under its name, and the Docker driver mounts that file at the target).
//   task dir   one per slot and spec version, so an agent restart finds the directory of a task it
//              adopts by the same name. A process task's is 0700 with 0600 files; a container's is
//              0755 with 0444 files (as Docker Swarm's), so a container running as any user can read
//              them — other users of the host still cannot, as the two levels above are 0700.
//
// Files are written whole (a temporary file, then a rename), so a task adopted after an agent restart,
// whose files are written again, never reads half of one.

import { randomBytes } from 'node:crypto'
import { chmod, lstat, mkdir, open, readdir, readFile, realpath, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { SlotId } from '../../core/index.js'
import { messageOf, SECRET_NAME_PATTERN } from '../../core/index.js'
import { slotFileName } from '../runtime/index.js'

export type SecretsRoot = { readonly ok: true; readonly dir: string } | { readonly ok: false; readonly reason: string }

/** Who reads a task's files: the agent's own user (a process) or whatever user a container runs as. */
export type SecretReader = 'owner' | 'container'

export interface SecretFile {
  /** The file's name in the task's directory: a secret name or a relative target (SECRET_NAME_PATTERN). */
  readonly name: string
  readonly value: Uint8Array
}

/** File systems whose files live in memory only. */
const MEMORY_FILE_SYSTEMS = new Set(['tmpfs', 'ramfs'])

/**
 * Where secrets may live on this host: /dev/shm when it is a memory file system, else
 * $XDG_RUNTIME_DIR when it is one; else the reason there is no such place.
 */
export async function findSecretsRoot(env: NodeJS.ProcessEnv = process.env, mountsFile = '/proc/mounts'): Promise<SecretsRoot> {
  let mounts: string
  try {
    mounts = await readFile(mountsFile, 'utf8')
  } catch (error) {
    return { ok: false, reason: `cannot read ${mountsFile} to find a memory-only file system for secrets: ${messageOf(error)}` }
  }
  const tried: string[] = []
  for (const candidate of ['/dev/shm', env.XDG_RUNTIME_DIR]) {
    if (candidate === undefined || candidate === '') continue
    const real = await realpath(candidate).catch(() => undefined)
    const isDir = real !== undefined && (await stat(real).then((s) => s.isDirectory(), () => false))
    const type = real === undefined ? undefined : fileSystemOf(real, mounts)
    if (isDir && type !== undefined && MEMORY_FILE_SYSTEMS.has(type)) return { ok: true, dir: real }
    tried.push(!isDir ? `${candidate} does not exist` : `${candidate} is on ${type ?? 'an unknown file system'}, not tmpfs`)
  }
  if (env.XDG_RUNTIME_DIR === undefined || env.XDG_RUNTIME_DIR === '') tried.push('XDG_RUNTIME_DIR is not set')
  return { ok: false, reason: `no memory-only file system to hold secrets (${tried.join('; ')}); secrets are never written to disk` }
}

/** The type of the file system holding `path` (absolute, no links), from /proc/mounts text. */
export function fileSystemOf(path: string, mounts: string): string | undefined {
  let best: { point: string; type: string } | undefined
  for (const line of mounts.split('\n')) {
    const [, rawPoint, type] = line.split(' ')
    if (rawPoint === undefined || type === undefined) continue
    // Spaces, tabs, newlines and backslashes in mount points are octal escapes.
    const point = rawPoint.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)))
    const inside = point === '/' || path === point || path.startsWith(`${point}/`)
    // The longest mount point wins; of equal ones the last listed (mounted over the others).
    if (inside && (best === undefined || point.length >= best.point.length)) best = { point, type }
  }
  return best?.type
}

export class SecretFiles {
  /** Serialises writes and sweeps: a sweep never removes a directory a write is filling. */
  private queue: Promise<unknown> = Promise.resolve()

  /**
   * @param root where secrets may live (findSecretsRoot)
   * @param owner this agent's peer id: its directory's name
   */
  constructor(
    readonly root: SecretsRoot,
    private readonly owner: string,
  ) {}

  /** This agent's directory, or undefined when the host has no place for secrets. */
  get agentDir(): string | undefined {
    return this.root.ok ? join(this.root.dir, `peer-${process.getuid?.() ?? 'user'}`, this.owner) : undefined
  }

  /** The name of a task's directory inside the agent's. */
  static taskDirName(slot: SlotId, specHash: string): string {
    return `${slotFileName(slot)}.${specHash}`
  }

  /**
   * Writes `files` into the task's directory (creating it, replacing what it held) and returns its
   * path; or the reason it cannot, which names no secret value.
   */
  write(slot: SlotId, specHash: string, files: readonly SecretFile[], reader: SecretReader): Promise<{ ok: true; dir: string } | { ok: false; reason: string }> {
    return this.serial(async () => {
      if (!this.root.ok) return { ok: false, reason: this.root.reason }
      // Validation allows no other names; a path here would write outside the task's directory.
      const odd = files.find((file) => !SECRET_NAME_PATTERN.test(file.name))
      if (odd !== undefined) return { ok: false, reason: `cannot write the task's secret files: ${JSON.stringify(odd.name)} is not a file name` }
      try {
        const agentDir = await this.ensureAgentDir()
        const dir = join(agentDir, SecretFiles.taskDirName(slot, specHash))
        await mkdir(dir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'EEXIST') throw error
        })
        const info = await lstat(dir)
        if (!info.isDirectory()) throw new Error(`${dir} is not a directory`)
        await chmod(dir, reader === 'owner' ? 0o700 : 0o755)
        const fileMode = reader === 'owner' ? 0o600 : 0o444
        for (const file of files) await writeWhole(dir, file, fileMode)
        const wanted = new Set(files.map((file) => file.name))
        for (const entry of await readdir(dir)) if (!wanted.has(entry)) await rm(join(dir, entry), { recursive: true, force: true })
        return { ok: true, dir }
      } catch (error) {
        return { ok: false, reason: `cannot write the task's secret files: ${messageOf(error)}` }
      }
    })
  }

  /** Removes every task directory whose name is not in `keep` (see taskDirName). */
  keepOnly(keep: ReadonlySet<string>): Promise<void> {
    return this.serial(async () => {
      const agentDir = this.agentDir
      if (agentDir === undefined) return
      let entries: string[]
      try {
        entries = await readdir(agentDir)
      } catch {
        return // none written yet
      }
      for (const entry of entries) if (!keep.has(entry)) await rm(join(agentDir, entry), { recursive: true, force: true })
    })
  }

  /** Task directories now present (for tests and the agent's start). */
  async present(): Promise<string[]> {
    const agentDir = this.agentDir
    if (agentDir === undefined) return []
    return readdir(agentDir).catch(() => [])
  }

  private async ensureAgentDir(): Promise<string> {
    const agentDir = this.agentDir!
    const userDir = join(agentDir, '..')
    await mkdir(userDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error
    })
    const info = await lstat(userDir)
    const uid = process.getuid?.()
    if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) {
      throw new Error(`${userDir} is not a directory of this user (uid ${uid}); remove it and start the task again`)
    }
    if ((info.mode & 0o077) !== 0) await chmod(userDir, 0o700)
    await mkdir(agentDir, { mode: 0o700 }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error
    })
    await chmod(agentDir, 0o700)
    return agentDir
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const result = this.queue.then(step)
    this.queue = result.catch(() => undefined)
    return result
  }
}

/** Writes one file under a temporary name, then renames it over the old one. */
async function writeWhole(dir: string, file: SecretFile, mode: number): Promise<void> {
  const temporary = join(dir, `.${file.name}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temporary, 'wx', mode)
  try {
    await handle.writeFile(file.value)
  } finally {
    await handle.close()
  }
  await chmod(temporary, mode) // the umask may have taken bits a container's reader needs
  await rename(temporary, join(dir, file.name))
}
