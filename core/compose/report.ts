// Where problems are collected. Translation never throws for a bad file: every mapper reports what it
// found at the field's path and goes on, so one run lists every problem. The file a problem belongs to
// is looked up from its path, because after several files merge a field's file is the last one that
// set it; problems found while one file is read alone (interpolation, extends) name that file.

import type { ComposeProblem } from './types.js'

export interface Report {
  error(path: string, message: string): void
  warn(path: string, message: string): void
  /** Errors so far: a reader compares counts to tell whether its own part added any. */
  errorCount(): number
}

export interface ProblemLog extends Report {
  readonly errors: ComposeProblem[]
  readonly warnings: ComposeProblem[]
  /** A report into this log whose problems all name `file`. */
  forFile(file: string): Report
}

/** A log whose problems take their file from `fileOf(path)`. A warning said twice is kept once. */
export function problemLog(fileOf: (path: string) => string): ProblemLog {
  const errors: ComposeProblem[] = []
  const warnings: ComposeProblem[] = []
  const seen = new Set<string>()
  const reportTo = (file: ((path: string) => string)): Report => ({
    error(path, message) {
      errors.push({ file: file(path), path, message })
    },
    warn(path, message) {
      const problem = { file: file(path), path, message }
      const key = JSON.stringify(problem)
      if (seen.has(key)) return
      seen.add(key)
      warnings.push(problem)
    },
    errorCount() {
      return errors.length
    },
  })
  return {
    errors,
    warnings,
    ...reportTo(fileOf),
    forFile: (file) => reportTo(() => file),
  }
}
