// Reading the files users hand to the CLI: service specs and peer inventories, in YAML or JSON.
// Every problem comes back as a value naming the file, the field path (or line) and what was expected.

import { readFile, stat } from 'node:fs/promises'
import { LineCounter, parseAllDocuments, visit } from 'yaml'
import { validateInventory, validateServices, type PeerView, type ServiceSpec, type SpecError } from '../core/index.js'

/** Spec and inventory files are small; anything larger is a mistake (or an attack on the parser). */
export const MAX_INPUT_FILE_BYTES = 16 * 1024 * 1024

export interface FileError {
  readonly file: string
  /** Field path, or `line:column` for a syntax error, or '' for the whole file. */
  readonly path: string
  readonly message: string
}

export type Loaded<T> = { ok: true; value: T } | { ok: false; errors: FileError[] }

export function formatFileError(error: FileError): string {
  return error.path === '' ? `${error.file}: ${error.message}` : `${error.file}: ${error.path}: ${error.message}`
}

/**
 * Aliases may be expanded this many times per document: enough for anchors shared by a few dozen
 * services, far below what a "billion laughs" file needs to exhaust memory.
 */
export const MAX_ALIAS_EXPANSIONS = 100
/** Deeper nesting than this is no spec a person wrote; refusing it keeps every later recursion safe. */
export const MAX_NESTING_DEPTH = 64

/** Parses YAML or JSON text (JSON is YAML). Several `---` documents come back as several values. */
export function parseDocuments(file: string, text: string): Loaded<unknown[]> {
  const lines = new LineCounter()
  const at = (offset: number | undefined): string => {
    if (offset === undefined) return ''
    const position = lines.linePos(offset)
    return `${position.line}:${position.col}`
  }
  // `merge`: YAML 1.1's `<<: *defaults` merge keys, which Compose files (and people) use with anchors.
  const documents = parseAllDocuments(text, { prettyErrors: false, lineCounter: lines, merge: true })
  const list = Array.isArray(documents) ? documents : [documents]
  const errors: FileError[] = []
  for (const document of list) {
    for (const error of document.errors) {
      errors.push({ file, path: at(error.pos[0]), message: readableYamlError(error.message) })
    }
  }
  if (errors.length > 0) return { ok: false, errors }
  const values: unknown[] = []
  for (const document of list) {
    let value: unknown
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS })
    } catch (error) {
      // Alias failures are thrown by the YAML library, not collected: place them at the first alias.
      let offset: number | undefined
      visit(document, { Alias: (_key, node) => {
        offset = node.range?.[0]
        return visit.BREAK
      } })
      errors.push({ file, path: at(offset), message: readableYamlError((error as Error).message) })
      continue
    }
    if (depthExceeds(value, MAX_NESTING_DEPTH)) {
      errors.push({ file, path: '', message: `nested deeper than ${MAX_NESTING_DEPTH} levels` })
      continue
    }
    if (value !== null && value !== undefined) values.push(value)
  }
  if (errors.length > 0) return { ok: false, errors }
  if (values.length === 0) return { ok: false, errors: [{ file, path: '', message: 'the file is empty' }] }
  return { ok: true, value: values }
}

/** The YAML library's first line, with its resource-limit errors said plainly. */
function readableYamlError(message: string): string {
  const first = message.split('\n')[0]!
  if (/Maximum call stack/i.test(first)) return `nested too deeply to read (at most ${MAX_NESTING_DEPTH} levels)`
  if (/Excessive alias count/i.test(first)) return `aliases expand more than ${MAX_ALIAS_EXPANSIONS} times (a YAML "billion laughs" file?)`
  const unresolved = /Unresolved alias.*?: (.*)$/.exec(first)
  if (unresolved) return `alias *${unresolved[1]} refers to no anchor defined before it`
  return first
}

/** Whether a parsed value nests deeper than `limit` (iterative, so it cannot overflow the stack itself). */
function depthExceeds(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]]
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!
    if (item === null || typeof item !== 'object') continue
    if (depth >= limit) return true
    for (const child of Object.values(item as object)) stack.push([child, depth + 1])
  }
  return false
}

export async function readTextFile(file: string): Promise<Loaded<string>> {
  try {
    const info = await stat(file)
    if (!info.isFile()) return { ok: false, errors: [{ file, path: '', message: 'not a regular file' }] }
    if (info.size > MAX_INPUT_FILE_BYTES) {
      return { ok: false, errors: [{ file, path: '', message: `larger than ${MAX_INPUT_FILE_BYTES / 1024 / 1024} MiB` }] }
    }
    return { ok: true, value: await readFile(file, 'utf8') }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const message = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message
    return { ok: false, errors: [{ file, path: '', message }] }
  }
}

/** Validates the services of one or more documents of one file. */
export function servicesFromText(file: string, text: string): Loaded<ServiceSpec[]> {
  const parsed = parseDocuments(file, text)
  if (!parsed.ok) return parsed
  return servicesFromDocuments(file, parsed.value)
}

/** Validates the services of the parsed documents of one file in peer's own format. */
export function servicesFromDocuments(file: string, documents: readonly unknown[]): Loaded<ServiceSpec[]> {
  const services: ServiceSpec[] = []
  const errors: FileError[] = []
  const seen = new Set<string>()
  documents.forEach((document, i) => {
    const prefix = documents.length > 1 ? `document ${i + 1}: ` : ''
    const result = validateServices(document)
    if (!result.ok) {
      errors.push(...result.errors.map((e: SpecError) => ({ file, path: prefix + e.path, message: e.message })))
      return
    }
    for (const spec of result.services) {
      if (seen.has(spec.name)) errors.push({ file, path: `${prefix}services.${spec.name}`, message: 'service is defined in more than one document' })
      seen.add(spec.name)
      services.push(spec)
    }
  })
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: services }
}

export async function loadInventory(file: string, services: readonly ServiceSpec[]): Promise<Loaded<PeerView[]>> {
  const text = await readTextFile(file)
  if (!text.ok) return text
  const parsed = parseDocuments(file, text.value)
  if (!parsed.ok) return parsed
  if (parsed.value.length !== 1) return { ok: false, errors: [{ file, path: '', message: 'expected one document' }] }
  const result = validateInventory(parsed.value[0], services)
  if (!result.ok) return { ok: false, errors: result.errors.map((e) => ({ file, path: e.path, message: e.message })) }
  return { ok: true, value: result.peers }
}
