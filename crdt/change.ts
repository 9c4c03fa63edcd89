// Every edit is one Automerge change, stamped with the caller's clock.

import * as Automerge from '@automerge/automerge'
import type { DesiredDoc, DesiredStateDocument } from './schema.js'

/**
 * Automerge stamps each change with a time in seconds and would read the wall clock if not given one;
 * the caller's clock is used instead. Messages are for people reading raw history; they are capped.
 */
export function changeOptions(message: string, nowMs: number): { message: string; time: number } {
  return { message: message.length > 200 ? `${message.slice(0, 197)}...` : message, time: Math.floor(nowMs / 1000) }
}

/** Runs `edit` as one change; returns the new document and the change's bytes. */
export function commitChange(doc: DesiredDoc, message: string, nowMs: number, edit: (root: DesiredStateDocument) => void): { doc: DesiredDoc; change: Uint8Array | null } {
  const next = Automerge.change(doc, changeOptions(message, nowMs), edit)
  return { doc: next, change: next === doc ? null : Automerge.getLastLocalChange(next) ?? null }
}
