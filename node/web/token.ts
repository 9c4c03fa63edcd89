// The web view's access token: 32 random bytes, hex, in `ui.token` in the data directory (0600). `peer
// init` writes it; an agent whose data directory predates it writes it at start. Whoever can read the
// data directory can read the cluster anyway, so holding the file is the right to look.
//
// The token is asked for only when the page listens on a non-loopback address (bind-address.ts): on
// loopback, reaching the port already means being on this host.

import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '../../io/index.js'

export const UI_TOKEN_FILE = 'ui.token'

/** The name of the cookie a `?token=` sets, so the page's own requests (and its event stream) carry it. */
export const UI_TOKEN_COOKIE = 'peer_ui_token'

const TOKEN_PATTERN = /^[0-9a-f]{64}$/

/** Reads the data directory's token, writing a new one first when there is none (or it is malformed). */
export async function ensureUiToken(dataDir: string): Promise<string> {
  const existing = await readFile(join(dataDir, UI_TOKEN_FILE), 'utf8').then((text) => text.trim(), () => undefined)
  if (existing !== undefined && TOKEN_PATTERN.test(existing)) return existing
  const token = randomBytes(32).toString('hex')
  await writeFileDurably(dataDir, UI_TOKEN_FILE, Buffer.from(`${token}\n`))
  return token
}

/** Compares in constant time, so the answer's timing says nothing about how much of a guess was right. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (given === undefined) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The token a request carries: `Authorization: Bearer …`, else the cookie, else undefined. */
export function tokenOfRequest(headers: { readonly authorization?: string | undefined; readonly cookie?: string | undefined }): string | undefined {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')
  if (bearer !== null) return bearer[1]
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === UI_TOKEN_COOKIE) return part.slice(eq + 1).trim()
  }
  return undefined
}
