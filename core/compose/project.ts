// What every service's translation may consult: the project directory and environment, the file
// reader, and the top-level declarations (volumes, networks, secrets, configs) services refer to.

import type { Report } from './report.js'
import type { ComposeSecret } from './types.js'

/** A top-level volume: the name it has on a host. */
export interface DeclaredVolume {
  readonly name: string
}

/** A top-level secret or config, translated; undefined entries were declared but refused (already reported). */
export type DeclaredFileObject = ComposeSecret | undefined

export interface Project {
  /** The directory of the first file: relative paths in every file resolve against it. */
  readonly directory: string
  readonly environment: Readonly<Record<string, string>>
  readonly readText: (absolutePath: string) => string | undefined
  readonly volumes: ReadonlyMap<string, DeclaredVolume>
  readonly networks: ReadonlySet<string>
  readonly secrets: ReadonlyMap<string, DeclaredFileObject>
  readonly configs: ReadonlyMap<string, DeclaredFileObject>
  /** Keys of the secrets and configs some service uses: only those are reported for creation. */
  readonly used: { readonly secrets: Set<string>; readonly configs: Set<string> }
}

/** One service being translated: its name, the path of its body, where problems go, and the project. */
export interface ServiceContext {
  readonly name: string
  readonly path: string
  readonly report: Report
  readonly project: Project
}
