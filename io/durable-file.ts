// Files that survive a crash at any instant: written to a temporary file, fsynced, renamed into place,
// and the directory fsynced, so a reader finds either the old file or the new one, never a torn one.
// Shared by the desired-state store and the agent's task records.
//
// They are private to the agent's user: what the agent keeps holds specs, and specs hold env values.
// Files are written 0600; makePrivate tightens a directory (0700) and the files in it, for data
// written before, or by hand, with looser modes.

import { chmod, open, readdir, rename, unlink, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/** Writes `name` in `dir` atomically, mode 0600; `tempName` must be unique among concurrent writers of `dir`. */
export async function writeFileDurably(dir: string, name: string, data: Uint8Array, tempName = `${name}.tmp`): Promise<void> {
  const temp = join(dir, tempName)
  const handle = await open(temp, 'w', PRIVATE_FILE_MODE)
  try {
    try {
      // The mode given to open applies only to a new file; a temporary file left behind keeps its own.
      await handle.chmod(PRIVATE_FILE_MODE)
      await writeAll(handle, data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, join(dir, name))
  } catch (error) {
    // A write that failed (a full disk, most often) must not leave its temporary file behind: on a
    // full disk each retry would add one, and the space they hold is what the disk lacks.
    await unlink(temp).catch(() => undefined)
    throw error
  }
  await syncDirectory(dir)
}

/** Makes a rename or a new file in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Writes all of `data` at the handle's position (a single write may be short). */
export async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let offset = 0
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset, null)
    offset += bytesWritten
  }
}

/** Makes `dir` 0700 and each file directly in it 0600 (subdirectories are left to their owners). */
export async function makePrivate(dir: string): Promise<void> {
  await chmod(dir, PRIVATE_DIR_MODE)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile()) await chmod(join(dir, entry.name), PRIVATE_FILE_MODE)
  }
}
