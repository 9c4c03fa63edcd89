// Workload traces: CSV files of tasks with their requests and lifetimes, such as the Alibaba GPU
// cluster trace (`name,cpu_milli,memory_mib,num_gpu,...,creation_time,deletion_time,...`).
//
// The first line that is neither blank nor a `#` comment is the header. Columns are found by name,
// so extra columns are ignored and order does not matter. Required: name, cpu_milli, memory_mib,
// creation_time. Optional: num_gpu (default 0), deletion_time (empty = never deleted), strategy
// (spread or binpack; empty = spread) and constraints (label constraints as in a spec, separated by
// ";", e.g. "zone == z1; arch in (amd64, arm64)" — quote the field when it holds a comma). Times are
// seconds from the trace's start. Fields may be quoted ("a,b"), with "" for a quote inside.
//
// Every problem is reported with its line number and column name, and parsing stops at
// `maxErrors` so a wrong file gives a readable answer rather than a million lines of them.

import {
  SERVICE_NAME_PATTERN, STRATEGIES, formatConstraint, hash32, parseConstraint, validateService,
  type Resources, type ServiceSpec, type SpecError, type Strategy,
} from '../core/index.js'

export interface TraceEntry {
  readonly name: string
  /** Line of the file the entry came from (1-based), for messages. */
  readonly line: number
  readonly cpuMilli: number
  readonly memoryMiB: number
  readonly gpu: number
  readonly creationMs: number
  /** undefined when the task is never deleted. */
  readonly deletionMs: number | undefined
  /** The row's strategy; undefined: the spec default (spread), or what a flag sets for every row. */
  readonly strategy?: Strategy
  /** The row's label constraints, as a spec writes them; absent: none. */
  readonly constraints?: readonly string[]
}

export interface TraceError {
  readonly line: number
  /** The column's name from the header, when the problem is in one field. */
  readonly column?: string
  readonly message: string
}

export type TraceResult = { ok: true; entries: TraceEntry[] } | { ok: false; errors: TraceError[] }

export interface TraceLimits {
  readonly maxBytes: number
  readonly maxEntries: number
  readonly maxLineLength: number
  readonly maxNameLength: number
  readonly maxErrors: number
}

export const DEFAULT_TRACE_LIMITS: TraceLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxEntries: 5_000_000,
  maxLineLength: 64 * 1024,
  maxNameLength: 256,
  maxErrors: 50,
}

const REQUIRED_COLUMNS = ['name', 'cpu_milli', 'memory_mib', 'creation_time'] as const
const OPTIONAL_COLUMNS = ['num_gpu', 'deletion_time', 'strategy', 'constraints'] as const
type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number]

export function parseTrace(text: string, limits: TraceLimits = DEFAULT_TRACE_LIMITS): TraceResult {
  if (text.length > limits.maxBytes) {
    return { ok: false, errors: [{ line: 0, message: `trace is larger than ${limits.maxBytes} bytes` }] }
  }
  const errors: TraceError[] = []
  const full = () => errors.length >= limits.maxErrors
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  let headerAt = -1
  let columns: Map<Column, number> | undefined
  let width = 0
  const entries: TraceEntry[] = []
  const firstLineOfName = new Map<string, number>()

  for (let i = 0; i < lines.length && !full(); i++) {
    const lineNumber = i + 1
    const line = lines[i]!
    if (line.trim() === '' || line.startsWith('#')) continue
    if (line.length > limits.maxLineLength) {
      errors.push({ line: lineNumber, message: `line is longer than ${limits.maxLineLength} characters` })
      continue
    }
    const fields = splitCsvLine(line)
    if (typeof fields === 'string') {
      errors.push({ line: lineNumber, message: fields })
      continue
    }
    if (columns === undefined) {
      headerAt = lineNumber
      const header = readHeader(fields, lineNumber)
      if (!header.ok) return { ok: false, errors: header.errors }
      columns = header.columns
      width = fields.length
      continue
    }
    if (fields.length !== width) {
      errors.push({ line: lineNumber, message: `expected ${width} fields as in the header (line ${headerAt}), found ${fields.length}` })
      continue
    }
    if (entries.length >= limits.maxEntries) {
      errors.push({ line: lineNumber, message: `trace has more than ${limits.maxEntries} entries` })
      break
    }
    const entry = readEntry(fields, columns, lineNumber, limits, errors)
    if (entry === undefined) continue
    const earlier = firstLineOfName.get(entry.name)
    if (earlier !== undefined) {
      errors.push({ line: lineNumber, column: 'name', message: `name ${JSON.stringify(entry.name)} is already used on line ${earlier}` })
      continue
    }
    firstLineOfName.set(entry.name, lineNumber)
    entries.push(entry)
  }
  if (columns === undefined && errors.length === 0) {
    errors.push({ line: 1, message: `trace is empty; expected a header line with ${REQUIRED_COLUMNS.join(',')}` })
  }
  if (full()) errors.push({ line: errors[errors.length - 1]!.line, message: `stopped after ${limits.maxErrors} errors` })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, entries }
}

function readHeader(fields: string[], line: number): { ok: true; columns: Map<Column, number> } | { ok: false; errors: TraceError[] } {
  const errors: TraceError[] = []
  const positions = new Map<string, number>()
  fields.forEach((raw, i) => {
    const name = raw.trim().toLowerCase()
    if (positions.has(name)) errors.push({ line, column: name, message: `column ${JSON.stringify(name)} appears twice in the header` })
    positions.set(name, i)
  })
  for (const required of REQUIRED_COLUMNS) {
    if (!positions.has(required)) {
      errors.push({ line, column: required, message: `header has no ${required} column; expected at least ${REQUIRED_COLUMNS.join(',')} (found ${fields.map((f) => f.trim()).join(',')})` })
    }
  }
  if (errors.length > 0) return { ok: false, errors }
  const columns = new Map<Column, number>()
  for (const column of [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]) {
    const at = positions.get(column)
    if (at !== undefined) columns.set(column, at)
  }
  return { ok: true, columns }
}

function readEntry(fields: string[], columns: Map<Column, number>, line: number, limits: TraceLimits, errors: TraceError[]): TraceEntry | undefined {
  const before = errors.length
  const field = (column: Column) => {
    const at = columns.get(column)
    return at === undefined ? '' : fields[at]!.trim()
  }
  const fail = (column: Column, message: string) => errors.push({ line, column, message })
  const number = (column: Column, what: string, { optional = false, whole = false } = {}): number | undefined => {
    const raw = field(column)
    if (raw === '') {
      if (!optional) fail(column, `missing ${what}`)
      return undefined
    }
    const value = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : NaN
    if (!Number.isFinite(value) || (whole && !Number.isInteger(value))) {
      fail(column, `expected ${whole ? 'a whole' : 'a non-negative'} number (${what}), got ${JSON.stringify(raw)}`)
      return undefined
    }
    return value
  }

  const name = field('name')
  if (name === '') fail('name', 'missing name')
  else if (name.length > limits.maxNameLength) fail('name', `name is longer than ${limits.maxNameLength} characters`)
  const cpu = number('cpu_milli', 'millicores')
  const memory = number('memory_mib', 'MiB')
  const gpu = number('num_gpu', 'GPUs', { optional: true, whole: true }) ?? 0
  const created = number('creation_time', 'seconds from the trace start')
  const deleted = number('deletion_time', 'seconds from the trace start', { optional: true })
  if (created !== undefined && deleted !== undefined && deleted < created) {
    fail('deletion_time', `deletion_time ${deleted} is before creation_time ${created}`)
  }
  const strategyText = field('strategy')
  if (strategyText !== '' && !STRATEGIES.includes(strategyText as Strategy)) {
    fail('strategy', `expected ${STRATEGIES.join(' or ')} (or empty), got ${JSON.stringify(strategyText)}`)
  }
  const constraints: string[] = []
  for (const part of field('constraints').split(';')) {
    if (part.trim() === '') continue
    const parsed = parseConstraint(part)
    if (typeof parsed === 'string') fail('constraints', `${JSON.stringify(part.trim())}: ${parsed}`)
    else constraints.push(formatConstraint(parsed))
  }
  if (errors.length > before || cpu === undefined || memory === undefined || created === undefined) return undefined
  return {
    name,
    line,
    cpuMilli: Math.round(cpu),
    memoryMiB: Math.ceil(memory),
    gpu,
    creationMs: Math.round(created * 1000),
    deletionMs: deleted === undefined ? undefined : Math.round(deleted * 1000),
    ...(strategyText !== '' ? { strategy: strategyText as Strategy } : {}),
    ...(constraints.length > 0 ? { constraints } : {}),
  }
}

/** Splits one CSV line; returns a sentence when a quote is left open. */
export function splitCsvLine(line: string): string[] | string {
  const fields: string[] = []
  let current = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          current += '"'
          i++
        } else {
          quoted = false
        }
      } else {
        current += c
      }
    } else if (c === ',') {
      fields.push(current)
      current = ''
    } else if (c === '"' && current.trim() === '') {
      quoted = true
      current = ''
    } else {
      current += c
    }
  }
  if (quoted) return 'a quoted field is not closed (quotes inside a field are written "")'
  fields.push(current)
  return fields
}

// --- from entries to what a simulation consumes ---

export interface TimelineEvent {
  readonly atMs: number
  readonly kind: 'create' | 'delete'
  readonly name: string
  readonly resources: Resources
}

/**
 * Creations and deletions in time order. At one instant deletions come first, so resources freed at
 * time t can be used by a task created at t; otherwise the trace's own order is kept.
 */
export function traceToTimeline(entries: readonly TraceEntry[]): TimelineEvent[] {
  const events: Array<{ event: TimelineEvent; order: number }> = []
  entries.forEach((entry, i) => {
    const resources: Resources = { cpuMilli: entry.cpuMilli, memoryMiB: entry.memoryMiB, extended: entry.gpu > 0 ? { gpu: entry.gpu } : {} }
    events.push({ event: { atMs: entry.creationMs, kind: 'create', name: entry.name, resources }, order: i })
    if (entry.deletionMs !== undefined) events.push({ event: { atMs: entry.deletionMs, kind: 'delete', name: entry.name, resources }, order: i })
  })
  events.sort((a, b) =>
    a.event.atMs - b.event.atMs || (a.event.kind === b.event.kind ? 0 : a.event.kind === 'delete' ? -1 : 1) || a.order - b.order)
  return events.map((entry) => entry.event)
}

/**
 * A service name for a trace entry: the name itself when it is already a valid service name,
 * otherwise a cleaned-up form with a hash of the original appended, so distinct names stay distinct.
 */
export function traceServiceName(name: string): string {
  if (SERVICE_NAME_PATTERN.test(name)) return name
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 54).replace(/-+$/, '')
  const suffix = hash32(name).toString(16).padStart(8, '0')
  return cleaned === '' ? `t-${suffix}` : `${cleaned}-${suffix}`
}

/** What a flag sets for every row of a trace: a row's own column wins over the strategy, constraints add up. */
export interface TraceDefaults {
  readonly strategy?: Strategy
  readonly constraints?: readonly string[]
}

/** A trace entry as a one-replica service (process driver), validated like any user's spec. */
export function serviceForTraceEntry(entry: TraceEntry, defaults: TraceDefaults = {}): ServiceSpec {
  const name = traceServiceName(entry.name)
  const resources: Record<string, unknown> = { cpu: `${entry.cpuMilli}m`, memory: entry.memoryMiB }
  if (entry.gpu > 0) resources.gpu = entry.gpu
  const body: Record<string, unknown> = { command: ['sim-task'], replicas: 1, resources }
  const strategy = entry.strategy ?? defaults.strategy
  if (strategy !== undefined) body.strategy = strategy
  const constraints = [...(defaults.constraints ?? []), ...(entry.constraints ?? [])]
  if (constraints.length > 0) body.constraints = constraints
  const errors: SpecError[] = []
  const spec = validateService(name, body, name, errors)
  if (spec === undefined) throw new Error(`trace entry on line ${entry.line} makes an invalid service: ${JSON.stringify(errors)}`)
  return spec
}
