// env_file and label_file: files in the .env format (dotenv.ts), read through the injected reader,
// relative to the project directory. Later files override earlier ones. A missing file is an error
// unless the entry says `required: false` (env_file's long form).

import { quoted } from '../error-message.js'
import { dotenv } from './dotenv.js'
import { ENV_FILE_FIELDS } from './fields.js'
import { item, join } from './field-path.js'
import { expandHome, resolvePath } from './host-paths.js'
import type { ServiceContext } from './project.js'
import { checkKeys, isMap, put, readBoolean, readString } from './values.js'

interface FileEntry {
  readonly file: string
  readonly required: boolean
  readonly path: string
}

/** The values of the files a service's `env_file:` or `label_file:` lists; `lookup` resolves ${VAR} in them. */
export function readKeyValueFiles(
  value: unknown,
  field: 'env_file' | 'label_file',
  context: ServiceContext,
  lookup: (name: string) => string | undefined,
): Record<string, string> {
  const values: Record<string, string> = {}
  for (const entry of fileEntries(value, field, context)) {
    const text = context.project.readText(entry.file)
    if (text === undefined) {
      if (entry.required) context.report.error(entry.path, `${entry.file}: no such file (mark it required: false if it is optional)`)
      continue
    }
    const parsed = dotenv(text, entry.file, lookup)
    if (!parsed.ok) {
      for (const problem of parsed.errors) context.report.error(entry.path, `${problem.file}: ${problem.path}: ${problem.message}`)
      continue
    }
    for (const [key, text] of Object.entries(parsed.values)) put(values, key, text)
  }
  return values
}

function fileEntries(value: unknown, field: 'env_file' | 'label_file', context: ServiceContext): FileEntry[] {
  const path = join(context.path, field)
  const { report, project } = context
  if (value === undefined || value === null) return []
  const list = Array.isArray(value) ? value : [value]
  const entries: FileEntry[] = []
  list.forEach((entry, i) => {
    const entryPath = Array.isArray(value) ? item(path, i) : path
    let file: string | undefined
    let required = true
    if (typeof entry === 'string') {
      file = entry
    } else if (isMap(entry) && field === 'env_file') {
      checkKeys(entry, ENV_FILE_FIELDS, entryPath, report)
      file = readString(entry.path, join(entryPath, 'path'), report)
      if (file === undefined) report.error(join(entryPath, 'path'), 'expected the path of the file')
      required = readBoolean(entry.required, join(entryPath, 'required'), report) ?? true
      const format = readString(entry.format, join(entryPath, 'format'), report)
      if (format !== undefined && format !== '.env' && format !== 'dotenv') report.error(join(entryPath, 'format'), `unsupported format ${quoted(format)}: peer reads the .env format`)
    } else {
      report.error(entryPath, field === 'env_file' ? 'expected a path, or { path, required }' : 'expected a path')
    }
    if (file === undefined) return
    const expanded = expandHome(file, project.environment)
    if (!expanded.ok) {
      report.error(entryPath, expanded.error)
      return
    }
    entries.push({ file: resolvePath(project.directory, expanded.path), required, path: entryPath })
  })
  return entries
}
