// Two kinds of difference between specs. `changedPaths` is for people: the deepest fields that differ
// (`update.parallelism`, `env.LOG_LEVEL`), shown in history. `WriteStep`s are for storage: the
// registers to overwrite (see spec-codec.ts for which fields are registers and which are maps).

import { canonicalJson } from '../core/index.js'
import { isRecordValue } from './plain.js'

/** Paths of every leaf that differs between two plain values, in key order. */
export function changedPaths(before: unknown, after: unknown): string[] {
  const out: string[] = []
  collect(before, after, [], out)
  return out
}

function collect(before: unknown, after: unknown, path: readonly string[], out: string[]): void {
  if (isRecordValue(before) && isRecordValue(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()
    for (const key of keys) {
      collect(Object.hasOwn(before, key) ? before[key] : undefined, Object.hasOwn(after, key) ? after[key] : undefined, [...path, key], out)
    }
    return
  }
  if (before === undefined && after === undefined) return
  if (before === undefined || after === undefined || sameJson(before, after) === false) out.push(formatPath(path))
}

export function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b)
  } catch {
    return false
  }
}

/** One write into an Automerge map: `value` is already in stored form (see plain.ts `toStored`). */
export type WriteStep =
  | { readonly kind: 'put'; readonly path: readonly string[]; readonly value: unknown }
  | { readonly kind: 'delete'; readonly path: readonly string[] }

/** Performs the writes on an Automerge map proxy inside a change callback. */
export function applySteps(target: Record<string, unknown>, steps: readonly WriteStep[]): void {
  for (const step of steps) {
    let parent = target
    for (const key of step.path.slice(0, -1)) parent = parent[key] as Record<string, unknown>
    const key = step.path[step.path.length - 1]
    if (key === undefined) throw new Error('applySteps: a write needs a path')
    if (step.kind === 'delete') delete parent[key]
    else parent[key] = step.value
  }
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/** `resources.cpuMilli`, `env.LOG_LEVEL`, `labels["app.kubernetes.io/name"]`. Lists are leaves. */
export function formatPath(path: readonly string[]): string {
  let out = ''
  for (const key of path) {
    if (IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`
    else out += `[${JSON.stringify(key)}]`
  }
  return out
}
