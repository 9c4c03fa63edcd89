// Runs the real `peer` command in a child process, as a user would, and collects what it printed.

import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'uvu'
import { PEER_COMMAND } from '../peer-command.js'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** `input`, when given, is written to the command's stdin, which is then closed. */
export function runCli(args: readonly string[], timeoutMs = 30_000, input?: string | Uint8Array): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PEER_COMMAND[0], [...PEER_COMMAND.slice(1), ...args], {
      cwd: repoRoot,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    })
    if (input !== undefined) child.stdin!.end(input)
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`peer ${args.join(' ')} did not finish within ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr })
    })
  })
}

/**
 * A gate that lets at most `parallel` pieces of work run at once: each CLI run is a Node process, and
 * a test that starts dozens should queue them up front and let each await its own.
 */
export function concurrencyLimit(parallel: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0
  const waiting: (() => void)[] = []
  return async (work) => {
    if (running >= parallel) await new Promise<void>((resolve) => waiting.push(resolve))
    running++
    try {
      return await work()
    } finally {
      running--
      waiting.shift()?.()
    }
  }
}

/**
 * A temporary folder for the files a suite hands the CLI: made before its tests, removed after them.
 * `path` names a file in it; `write` writes one and answers its path.
 */
export function suiteFolder(test: Test, prefix: string): { path: (name: string) => string; write: (name: string, text: string) => string } {
  let dir = ''
  test.before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix))
  })
  test.after(() => {
    rmSync(dir, { recursive: true, force: true })
  })
  const path = (name: string): string => join(dir, name)
  return {
    path,
    write: (name, text) => {
      writeFileSync(path(name), text)
      return path(name)
    },
  }
}
