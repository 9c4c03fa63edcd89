// Reading the files users hand to the CLI: service specs and peer inventories, in YAML or JSON.
// Every problem comes back as a value naming the file, the field path (or line) and what was expected.

import { readFile, stat } from 'node:fs/promises'
import { LineCounter, parseAllDocuments } from 'yaml'
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

/** Parses YAML or JSON text (JSON is YAML). Several `---` documents come back as several values. */
export function parseDocuments(file: string, text: string): Loaded<unknown[]> {
  const lines = new LineCounter()
  const documents = parseAllDocuments(text, { prettyErrors: false, lineCounter: lines })
  const list = Array.isArray(documents) ? documents : [documents]
  const errors: FileError[] = []
  for (const document of list) {
    for (const error of document.errors) {
      const position = lines.linePos(error.pos[0])
      errors.push({ file, path: `${position.line}:${position.col}`, message: error.message.split('\n')[0]! })
    }
  }
  if (errors.length > 0) return { ok: false, errors }
  const values = list.map((document) => document.toJS({ maxAliasCount: 100 }) as unknown).filter((v) => v !== null && v !== undefined)
  if (values.length === 0) return { ok: false, errors: [{ file, path: '', message: 'the file is empty' }] }
  return { ok: true, value: values }
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
  const services: ServiceSpec[] = []
  const errors: FileError[] = []
  const seen = new Set<string>()
  parsed.value.forEach((document, i) => {
    const prefix = parsed.value.length > 1 ? `document ${i + 1}: ` : ''
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

export async function loadServices(files: readonly string[]): Promise<Loaded<ServiceSpec[]>> {
  const services: ServiceSpec[] = []
  const errors: FileError[] = []
  const origin = new Map<string, string>()
  for (const file of files) {
    const text = await readTextFile(file)
    if (!text.ok) {
      errors.push(...text.errors)
      continue
    }
    const result = servicesFromText(file, text.value)
    if (!result.ok) {
      errors.push(...result.errors)
      continue
    }
    for (const spec of result.value) {
      const other = origin.get(spec.name)
      if (other !== undefined) errors.push({ file, path: `services.${spec.name}`, message: `also defined in ${other}` })
      origin.set(spec.name, file)
      services.push(spec)
    }
  }
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
