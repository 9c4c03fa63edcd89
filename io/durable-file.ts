// Files that survive a crash at any instant: written to a temporary file, fsynced, renamed into place,
// and the directory fsynced, so a reader finds either the old file or the new one, never a torn one.
// Shared by the desired-state store and the agent's task records.

import { open, rename, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'

/** Writes `name` in `dir` atomically; `tempName` must be unique among concurrent writers of `dir`. */
export async function writeFileDurably(dir: string, name: string, data: Uint8Array, tempName = `${name}.tmp`): Promise<void> {
  const temp = join(dir, tempName)
  const handle = await open(temp, 'w')
  try {
    await writeAll(handle, data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, join(dir, name))
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
