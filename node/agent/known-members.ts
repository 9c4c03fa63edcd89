// The members this peer knew, kept on disk so that after a restart it knows whom to hear from
// before it restarts its tasks from assignments.json: the peers that may have replaced them while it
// was gone (core/protocol/rejoin.ts). Only peer ids: the machine probes and asks them like members,
// and a peer that is gone is declared dead by the normal failure detection.
//
// Written atomically whenever the set of live members changes; read once at start. A missing or
// damaged file is not fatal: the peer then knows nobody and restarts its tasks at once, as a peer
// that was alone does.

import { readFile } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import { writeFileDurably } from '../../io/index.js'
import { PEER_ID_PATTERN, type PeerId } from '../../core/index.js'

const FORMAT = 1

export type LoadedMembers = { members: PeerId[]; problems: string[] }

export async function readKnownMembers(path: string, self: PeerId): Promise<LoadedMembers> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return { members: [], problems: [] }
    return { members: [], problems: [`cannot read ${path}: ${(error as Error).message}`] }
  }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return { members: [], problems: [`${path} is not JSON (${(error as Error).message}); starting as if this peer knew nobody`] }
  }
  const body = document as { format?: unknown; members?: unknown }
  if (body === null || typeof body !== 'object' || body.format !== FORMAT || !Array.isArray(body.members)) {
    return { members: [], problems: [`${path} is not a member list of format ${FORMAT}; starting as if this peer knew nobody`] }
  }
  const members: PeerId[] = []
  const problems: string[] = []
  for (const [index, entry] of (body.members as unknown[]).entries()) {
    if (typeof entry !== 'string' || !PEER_ID_PATTERN.test(entry)) problems.push(`${path}: members[${index}] is not a peer id; skipped`)
    else if (entry !== self && !members.includes(entry as PeerId)) members.push(entry as PeerId)
  }
  return { members, problems }
}

export async function writeKnownMembers(path: string, members: readonly PeerId[]): Promise<void> {
  const text = `${JSON.stringify({ format: FORMAT, members: [...members].sort() })}\n`
  await writeFileDurably(dirname(path), basename(path), new TextEncoder().encode(text))
}
