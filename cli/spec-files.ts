// The files `apply`, `plan`, `sim` and `up` take with -f: peer's own spec files and Compose files,
// told apart by their keys (or by --format), and read into one list of validated ServiceSpecs.
//
// Compose files are read as `docker compose -f a.yml -f b.yml` reads them: all the Compose files of
// one command merge in order into one project, `${VAR}` takes its value from this process's
// environment over the `.env` file beside the first of them (or the --env-file files), and services
// whose profiles are not enabled with --profile are left out. The translation itself is pure
// (core/compose); this file does the reading. Everything peer cannot honour comes back as one
// warning line per key; --strict turns those into errors.

import { readFileSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { Option, type Command } from 'commander'
import {
  documentFormat, dotenv, translateCompose, validateServices,
  type ComposeSecret, type ComposeSource, type ServiceSpec, type SpecError,
} from '../core/index.js'
import { formatFileError, MAX_INPUT_FILE_BYTES, parseDocuments, readTextFile, servicesFromDocuments, type FileError, type Loaded } from './files.js'

export const SPEC_FORMATS = ['auto', 'compose', 'peer'] as const
export type SpecFormat = typeof SPEC_FORMATS[number]

export interface SpecFileOptions {
  format?: SpecFormat
  envFile?: string[]
  profile?: string[]
  strict?: boolean
}

/** What the files hold: the services, what was not honoured, and the secrets Compose files declare. */
export interface SpecFiles {
  readonly services: ServiceSpec[]
  readonly warnings: FileError[]
  readonly secrets: ComposeSecret[]
}

/**
 * The options every command that reads spec files takes. `peer sim` already has a `--profile` (its
 * synthetic peer mix), so it names Compose's `--compose-profile`.
 */
export function addSpecFileOptions(command: Command, profileFlag: '--profile' | '--compose-profile' = '--profile'): Command {
  return command
    .addOption(new Option('--format <format>', 'read the files as Compose files or as peer spec files (default: told by their keys)').choices(SPEC_FORMATS).default('auto'))
    .option('--env-file <path...>', 'Compose: variables for ${VAR} (default: .env beside the first Compose file)')
    .option(`${profileFlag} <name...>`, 'Compose: also include services with this profile')
    .option('--strict', 'refuse Compose keys peer cannot honour instead of warning about them')
}

/** This process's environment, or another one given in its place (tests pass a fixed one). */
export type ProcessEnvironment = Readonly<Record<string, string | undefined>>

/**
 * Reads, translates and validates `files`. Warnings are returned, not printed, so that a command
 * that fails prints its errors only; `--strict` makes each warning an error. `${VAR}` in Compose
 * files sees `processEnvironment` over the `.env` file.
 */
export async function loadSpecFiles(files: readonly string[], options: SpecFileOptions = {}, processEnvironment: ProcessEnvironment = process.env): Promise<Loaded<SpecFiles>> {
  const format = options.format ?? 'auto'
  const errors: FileError[] = []
  const warnings: FileError[] = []
  const services: ServiceSpec[] = []
  const origin = new Map<string, string>()
  const composeSources: ComposeSource[] = []
  const add = (file: string, spec: ServiceSpec): void => {
    const other = origin.get(spec.name)
    if (other !== undefined) errors.push({ file, path: `services.${spec.name}`, message: `also defined in ${other}` })
    origin.set(spec.name, file)
    services.push(spec)
  }

  const documents: Array<{ file: string; documents: unknown[]; format: FileFormat }> = []
  for (const file of files) {
    const text = await readTextFile(file)
    if (!text.ok) {
      errors.push(...text.errors)
      continue
    }
    const parsed = parseDocuments(file, text.value)
    if (!parsed.ok) errors.push(...parsed.errors)
    else documents.push({ file, documents: parsed.value, format: fileFormat(parsed.value, format) })
  }
  // A file that could be either (services with only image:, command:, ports: …) is read as the
  // others are: next to Compose files it is a Compose override, as `docker compose -f` takes it.
  const withCompose = documents.some((d) => d.format === 'compose')
  for (const { file, documents: parsed, format: written } of documents) {
    if (written === 'compose' || (written === 'undecided' && withCompose)) {
      if (parsed.length > 1) {
        errors.push({ file, path: '', message: 'a Compose file holds one document; this one has several (---)' })
        continue
      }
      composeSources.push({ file, directory: dirname(resolve(file)), document: parsed[0] })
      continue
    }
    const native = servicesFromDocuments(file, parsed)
    if (!native.ok) errors.push(...native.errors)
    else for (const spec of native.value) add(file, spec)
  }

  const secrets: ComposeSecret[] = []
  if (composeSources.length > 0) {
    const environment = composeEnvironment(composeSources[0]!.directory, options.envFile, processEnvironment, errors)
    if (environment !== undefined) {
      const result = translateCompose(composeSources, { environment, profiles: enabledProfiles(options.profile, environment), readText: readSmallText })
      warnings.push(...result.warnings)
      if (!result.ok) {
        errors.push(...result.errors)
      } else {
        secrets.push(...result.secrets)
        const validated = validateServices(result.services)
        if (!validated.ok) errors.push(...validated.errors.map((e) => translatedError(composeSources, result.services, e)))
        else for (const spec of validated.services) add(composeFileOf(composeSources, spec.name), spec)
      }
    }
  }

  if (options.strict) errors.push(...warnings.splice(0).map((w) => ({ ...w, message: `${w.message} (--strict)` })))
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: { services, warnings, secrets } }
}

type FileFormat = 'compose' | 'peer' | 'undecided'

/** The format --format names, else the one the file's keys tell (a file of several documents is peer's). */
function fileFormat(documents: readonly unknown[], format: SpecFormat): FileFormat {
  if (format !== 'auto') return format
  return documents.length === 1 ? documentFormat(documents[0]) : 'peer'
}

/** Errors or warnings as lines for the terminal, one per problem. */
export function problemLines(problems: readonly FileError[]): string {
  return problems.map(formatFileError).join('\n')
}

/**
 * What `${VAR}` sees: the `.env` file beside the first Compose file (or the --env-file files, later
 * ones winning), overridden by the process environment — Compose's order of precedence.
 */
function composeEnvironment(
  directory: string,
  envFiles: readonly string[] | undefined,
  processEnvironment: ProcessEnvironment,
  errors: FileError[],
): Record<string, string> | undefined {
  const values: Record<string, string> = {}
  const files = envFiles ?? []
  const defaultFile = join(directory, '.env')
  const candidates = files.length > 0 ? files.map((f) => ({ file: f, required: true })) : [{ file: defaultFile, required: false }]
  let failed = false
  for (const { file, required } of candidates) {
    const text = readSmallText(resolve(file))
    if (text === undefined) {
      if (required) {
        errors.push({ file, path: '', message: 'no such file (given with --env-file)' })
        failed = true
      }
      continue
    }
    // A variable a line refers to is looked up in this process's environment, then in earlier lines.
    const parsed = dotenv(text, file, (name) => processEnvironment[name] ?? values[name])
    if (!parsed.ok) {
      errors.push(...parsed.errors)
      failed = true
      continue
    }
    Object.assign(values, parsed.values)
  }
  if (failed) return undefined
  for (const [name, value] of Object.entries(processEnvironment)) if (value !== undefined) values[name] = value
  return values
}

/** Profiles from --profile, and from COMPOSE_PROFILES (environment or .env) as Compose takes them. */
function enabledProfiles(flags: readonly string[] | undefined, environment: Readonly<Record<string, string>>): string[] {
  const fromEnvironment = (environment.COMPOSE_PROFILES ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '')
  return [...new Set([...(flags ?? []), ...fromEnvironment])]
}

/** A small text file's contents, or undefined when it is missing, not a file, or too large to be one a person wrote. */
function readSmallText(path: string): string | undefined {
  try {
    const info = statSync(path)
    if (!info.isFile() || info.size > MAX_INPUT_FILE_BYTES) return undefined
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** The last Compose file that mentions the service: where its definition ends up coming from. */
function composeFileOf(sources: readonly ComposeSource[], service: string): string {
  for (let i = sources.length - 1; i >= 0; i--) {
    const document = sources[i]!.document as { services?: Record<string, unknown> } | null
    if (document?.services !== undefined && typeof document.services === 'object' && service in document.services) return sources[i]!.file
  }
  return sources[0]!.file
}

/**
 * A validation error about a translated service: the translation checks what it reads, so this is
 * rare (a value peer's limits refuse), and is said in peer's terms, naming the Compose service.
 */
function translatedError(sources: readonly ComposeSource[], translated: ReadonlyArray<Record<string, unknown>>, error: SpecError): FileError {
  const match = /^\[(\d+)\](?:\.(.*))?$/.exec(error.path)
  const written = match ? translated[Number(match[1])] : undefined
  const name = typeof written?.name === 'string' ? written.name : undefined
  if (name === undefined) return { file: sources.map((s) => s.file).join(', '), path: error.path, message: error.message }
  const field = match?.[2]
  return { file: composeFileOf(sources, name), path: `services.${name}`, message: field === undefined ? error.message : `${field} (as peer reads it): ${error.message}` }
}
