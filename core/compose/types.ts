// The translator's public vocabulary: what goes in (parsed compose files and what ${VAR} sees) and
// what comes out (peer services in their written form, warnings, the secrets to create, or errors).

/** One `-f` file, already parsed (YAML merge keys `<<` applied, anchors resolved). */
export interface ComposeSource {
  readonly file: string
  /** The file's directory, absolute. The first file's directory is the project directory. */
  readonly directory: string
  readonly document: unknown
}

export interface ComposeOptions {
  /** What `${VAR}` sees: the process environment over the `.env` file (or `--env-file`). */
  readonly environment: Readonly<Record<string, string>>
  /** Active profiles (`--profile`); `*` enables every profile. */
  readonly profiles: readonly string[]
  /** Reads a file for `env_file` and `label_file`; undefined when it does not exist. Injected, so translation stays pure. */
  readonly readText: (absolutePath: string) => string | undefined
}

/** An error or a warning: the file, the field path in compose terms, and what is wrong or ignored. */
export interface ComposeProblem {
  readonly file: string
  /** e.g. `services.web.deploy.resources.limits.memory`; a `line N` for an env file. */
  readonly path: string
  readonly message: string
}

/**
 * A secret or config the services use. Both become cluster secrets (`peer secret create`); the CLI
 * creates those with a `file` on apply and requires the external ones to exist.
 */
export interface ComposeSecret {
  /** The cluster secret's name: the entry's `name:`, else its key. */
  readonly name: string
  readonly kind: 'secret' | 'config'
  /** Absolute path of the file holding the value; absent for an external one. */
  readonly file?: string
  readonly external: boolean
  /** Where it is declared, e.g. `secrets.db_password`. */
  readonly declaredAt: ComposeProblem['path']
  readonly sourceFile: string
}

export type ComposeResult =
  | { ok: true; services: Array<Record<string, unknown>>; warnings: ComposeProblem[]; secrets: ComposeSecret[] }
  | { ok: false; errors: ComposeProblem[]; warnings: ComposeProblem[] }
