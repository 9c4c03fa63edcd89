// Helpers for the Compose corpus test: run loadSpecFiles on a fixture with a fixed environment, and
// compare what came out with expectations written by hand, in a compact form: each service as the
// fields that differ from peer's defaults, paths and ports as short strings, warnings and errors as
// (path, fragment of the message) pairs.

import * as assert from 'uvu/assert'
import { join, resolve } from 'node:path'
import { formatDurationMs, type ComposeSecret, type ServiceSpec } from '../../core/index.js'
import { loadSpecFiles, type SpecFileOptions } from '../../cli/spec-files.js'
import type { FileError } from '../../cli/files.js'
import { repoRoot } from './run-cli.js'

export const FIXTURES = resolve(repoRoot, 'test', 'fixtures', 'compose')

/** HOME is all a fixture sees of the machine; tests add the variables a fixture needs. */
export const HOME = '/home/tester'

export function fixture(...parts: string[]): string {
  return join(FIXTURES, ...parts)
}

/** Loads files named relative to the fixtures (or absolute) with only HOME and `variables` set. */
export async function load(files: readonly string[], variables: Record<string, string> = {}, options: SpecFileOptions = {}) {
  return loadSpecFiles(files.map((file) => resolve(FIXTURES, file)), options, { HOME, ...variables })
}

/**
 * A service as expected: the fields that differ from the defaults (replicated, 1 replica, no cpu
 * and no memory reserved, nothing else). `env` and `labels` list the entries of note; `envCount` and `labelCount`,
 * when given, the number of entries in all.
 */
export interface Expected {
  readonly image: string
  readonly mode?: ServiceSpec['mode']
  readonly replicas?: number
  readonly cpuMilli?: number
  readonly memoryMiB?: number
  readonly extended?: Record<string, number>
  /** `label op value`, values joined by commas. */
  readonly constraints?: readonly string[]
  readonly maxPerNode?: number
  /**
   * `mesh host:container/protocol` for a port every peer publishes (ingress mode), `host
   * host:container/protocol` for one bound on the task's own host only (host mode), `name
   * container/protocol` for one published nowhere, reachable by name only.
   */
  readonly ports?: readonly string[]
  /** The whole command, or its first words and its length (for a long script). */
  readonly command?: readonly string[] | { readonly head: readonly string[]; readonly length: number }
  readonly entrypoint?: readonly string[]
  /** The command, then `interval timeout retries startPeriod`. */
  readonly healthcheck?: readonly [readonly string[], string]
  /** `type source:target`, with `:ro` when read-only; tmpfs without a source. */
  readonly mounts?: readonly string[]
  /** The name, or `name -> target`. */
  readonly secrets?: readonly string[]
  readonly user?: string
  readonly workdir?: string
  readonly capAdd?: readonly string[]
  readonly stopGrace?: string
  /** `condition delay maxAttempts window`, when not peer's default. */
  readonly restart?: string
  /** `parallelism delay order rollback|pause`, when not peer's default. */
  readonly update?: string
  readonly env?: Readonly<Record<string, string>>
  readonly envCount?: number
  readonly labels?: Readonly<Record<string, string>>
  readonly labelCount?: number
}

const DEFAULT_RESTART = 'always 1s 5 2m'
const DEFAULT_UPDATE = '1 0s stop-first pause'

/** The spec in the shape of Expected: defaults left out, env and labels apart. */
function shape(spec: ServiceSpec, expected: Expected): Record<string, unknown> {
  const out: Record<string, unknown> = { image: spec.image }
  const set = (key: string, value: unknown, unset: boolean): void => {
    if (!unset) out[key] = value
  }
  set('mode', spec.mode, spec.mode === 'replicated')
  set('replicas', spec.replicas, spec.replicas === 1)
  // A Compose file that gives no figure reserves and limits nothing (0), as Swarm does.
  set('cpuMilli', spec.resources.cpuMilli, spec.resources.cpuMilli === 0)
  set('memoryMiB', spec.resources.memoryMiB, spec.resources.memoryMiB === 0)
  set('extended', spec.resources.extended, Object.keys(spec.resources.extended).length === 0)
  set('constraints', spec.constraints.map((c) => `${c.label} ${c.op} ${c.values.join(',')}`), spec.constraints.length === 0)
  set('maxPerNode', spec.maxPerNode, spec.maxPerNode === 0)
  set('ports', spec.ports.map(portText), spec.ports.length === 0)
  set('command', spec.command, spec.command.length === 0)
  if (expected.command !== undefined && !Array.isArray(expected.command)) {
    const { head } = expected.command as { head: readonly string[] }
    out.command = { head: spec.command.slice(0, head.length), length: spec.command.length }
  }
  set('entrypoint', spec.entrypoint, spec.entrypoint === undefined)
  const check = spec.healthcheck
  if (check !== null) {
    const timing = [formatDurationMs(check.intervalMs), formatDurationMs(check.timeoutMs), String(check.retries), formatDurationMs(check.startPeriodMs)]
    out.healthcheck = [check.command, timing.join(' ')]
  }
  set('mounts', spec.mounts?.map((m) => `${m.type} ${m.type === 'tmpfs' ? '' : `${m.source}:`}${m.target}${m.readOnly ? ':ro' : ''}`), spec.mounts === undefined)
  set('secrets', spec.secrets?.map((s) => (s.target === undefined ? s.name : `${s.name} -> ${s.target}`)), spec.secrets === undefined)
  set('user', spec.user, spec.user === undefined)
  set('workdir', spec.workdir, spec.workdir === undefined)
  set('capAdd', spec.capAdd, spec.capAdd === undefined)
  set('stopGrace', spec.stopGraceMs === undefined ? undefined : formatDurationMs(spec.stopGraceMs), spec.stopGraceMs === undefined)
  const { restart: r, update: u } = spec
  const restart = `${r.condition} ${formatDurationMs(r.delayMs)} ${r.maxAttempts} ${formatDurationMs(r.windowMs)}`
  set('restart', restart, restart === DEFAULT_RESTART)
  const update = `${u.parallelism} ${formatDurationMs(u.delayMs)} ${u.order} ${u.autoRollback ? 'rollback' : 'pause'}`
  set('update', update, update === DEFAULT_UPDATE)
  return out
}

/** A port as Expected writes it; a port published nowhere in host mode shows as `host 0:…`, which no expectation holds. */
function portText(port: ServiceSpec['ports'][number]): string {
  const ingress = port.mode === 'ingress'
  if (ingress && port.host === 0) return `name ${port.container}/${port.protocol}`
  return `${ingress ? 'mesh' : 'host'} ${port.host}:${port.container}/${port.protocol}`
}

/** The services are exactly those expected, in file order, each as expected. */
export function assertServices(services: readonly ServiceSpec[], expected: Readonly<Record<string, Expected>>): void {
  assert.equal(services.map((s) => s.name), Object.keys(expected), 'service names')
  for (const spec of services) {
    const { env, envCount, labels, labelCount, ...fields } = expected[spec.name]!
    assert.equal(shape(spec, expected[spec.name]!), fields, spec.name)
    assertEntries(spec.env, env, envCount, `${spec.name} env`)
    assertEntries(spec.labels, labels, labelCount, `${spec.name} labels`)
  }
}

function assertEntries(actual: Readonly<Record<string, string>>, expected: Readonly<Record<string, string>> | undefined, count: number | undefined, what: string): void {
  for (const [key, value] of Object.entries(expected ?? {})) assert.is(actual[key], value, `${what}: ${key}`)
  const size = Object.keys(actual).length
  if (count !== undefined) assert.is(size, count, `${what}: count`)
  else if (expected === undefined) assert.is(size, 0, `${what}: none expected, got ${JSON.stringify(actual)}`)
}

/** A problem expected: its field path and a fragment of its message. */
export type Problem = readonly [path: string, fragment: string]

/** Each expected problem matches exactly one actual one, and no actual one is left over. */
export function assertProblems(actual: readonly FileError[], expected: readonly Problem[], what = 'problems'): void {
  const left = [...actual]
  for (const [path, fragment] of expected) {
    const index = left.findIndex((p) => p.path === path && p.message.includes(fragment))
    if (index < 0) assert.unreachable(`${what}: none at ${path} holds ${JSON.stringify(fragment)}; got ${lines(actual)}`)
    left.splice(index, 1)
  }
  if (left.length > 0) assert.unreachable(`${what}: unexpected ${lines(left)}`)
}

function lines(problems: readonly FileError[]): string {
  return problems.map((p) => `\n  ${p.path}: ${p.message}`).join('')
}

/** The secrets to create or check, as `name kind file` (relative to the fixtures) or `name kind external`. */
export function secretLines(secrets: readonly ComposeSecret[]): string[] {
  return secrets.map((s) => `${s.name} ${s.kind} ${s.file === undefined ? 'external' : s.file.slice(FIXTURES.length + 1)}`)
}
