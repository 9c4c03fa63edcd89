// Test helpers: translate one service (named web) of one file in /project, and read the result as
// the written fields, the warnings and the errors, each problem as "path: message".

import * as assert from 'uvu/assert'
import { translateCompose, type ComposeOptions, type ComposeProblem, type ComposeResult } from '../../../core/index.js'

export const PROJECT = '/project'

export function options(overrides: Partial<ComposeOptions> = {}): ComposeOptions {
  return { environment: {}, profiles: [], readText: () => undefined, ...overrides }
}

export function translate(document: unknown, overrides: Partial<ComposeOptions> = {}): ComposeResult {
  return translateCompose([{ file: 'compose.yaml', directory: PROJECT, document }], options(overrides))
}

/** The problem as one line, the way the CLI prints it (without the file). */
export function line(problem: ComposeProblem): string {
  return `${problem.path}: ${problem.message}`
}

export interface Translated {
  /** The written service without its name. */
  readonly service: Record<string, unknown>
  readonly warnings: string[]
}

/** Translates `{ services: { web: service }, ...top }`, which must succeed. */
export function web(service: Record<string, unknown>, top: Record<string, unknown> = {}, overrides: Partial<ComposeOptions> = {}): Translated {
  const result = translate({ services: { web: service }, ...top }, overrides)
  if (!result.ok) assert.unreachable(`expected a translation, got errors: ${result.errors.map(line).join('; ')}`)
  assert.ok(result.ok)
  const { name, ...rest } = result.services[0]!
  assert.is(name, 'web')
  return { service: rest, warnings: result.warnings.map(line) }
}

/** Translates `{ services: { web: service }, ...top }`, which must fail; its errors as lines. */
export function webErrors(service: unknown, top: Record<string, unknown> = {}, overrides: Partial<ComposeOptions> = {}): string[] {
  const result = translate({ services: { web: service }, ...top }, overrides)
  if (result.ok) assert.unreachable(`expected errors, got ${JSON.stringify(result.services)}`)
  return result.ok ? [] : result.errors.map(line)
}

/** Asserts each expected fragment occurs in exactly one line, and that there are no other lines. */
export function assertLines(actual: readonly string[], expected: readonly string[]): void {
  const unmatched = [...actual]
  for (const fragment of expected) {
    const index = unmatched.findIndex((text) => text.includes(fragment))
    if (index < 0) assert.unreachable(`no line holds ${JSON.stringify(fragment)}; lines: ${JSON.stringify(actual)}`)
    unmatched.splice(index, 1)
  }
  if (unmatched.length > 0) assert.unreachable(`unexpected lines: ${JSON.stringify(unmatched)}`)
}

/** One row of a mapping table: a service's fields (image: nginx is added) → its written fields and warnings. */
export interface MappingCase {
  readonly what: string
  readonly input: Record<string, unknown>
  /** The written service without name and image. */
  readonly output: Record<string, unknown>
  /** A fragment of each warning expected, e.g. "services.web.hostname: ignored". */
  readonly warnings?: readonly string[]
  readonly top?: Record<string, unknown>
  readonly options?: Partial<ComposeOptions>
}

/** What a service that neither reserves nor limits anything is written with. */
export const NO_RESOURCES_WRITTEN = { cpu: '0m', memory: 0 }

export function checkMappings(cases: readonly MappingCase[]): void {
  for (const row of cases) {
    let translated: Translated
    try {
      translated = web({ image: 'nginx', ...row.input }, row.top, row.options)
    } catch (error) {
      throw new Error(`${row.what}: ${(error as Error).message}`)
    }
    const { image, resources, ...rest } = translated.service
    assert.is(image, 'nginx', row.what)
    // Every service is written with cpu and memory (0 when the file gives none); a row that is not
    // about resources leaves them out of its expected output, and then they must be those zeros.
    const expected = 'resources' in row.output ? row.output : { ...row.output, resources: NO_RESOURCES_WRITTEN }
    assert.equal({ ...rest, resources }, expected, row.what)
    try {
      assertLines(translated.warnings, row.warnings ?? [])
    } catch (error) {
      throw new Error(`${row.what}: ${(error as Error).message}`)
    }
  }
}

/** One row of an error table: a service's fields (image: nginx is added) → fragments of its errors. */
export interface ErrorCase {
  readonly what: string
  readonly input: Record<string, unknown>
  readonly errors: readonly string[]
  readonly top?: Record<string, unknown>
  readonly options?: Partial<ComposeOptions>
}

export function checkErrors(cases: readonly ErrorCase[]): void {
  for (const row of cases) {
    try {
      assertLines(webErrors({ image: 'nginx', ...row.input }, row.top, row.options), row.errors)
    } catch (error) {
      throw new Error(`${row.what}: ${(error as Error).message}`)
    }
  }
}
