// The test's side of namespace-child.ts: starts it inside a namespace and sends it commands.

import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { inNamespace } from '../../../hosts/command.js'

const CHILD = fileURLToPath(new URL('./namespace-child.ts', import.meta.url))
/** A `node --import tsx` start on a busy two-core machine was seen to take tens of seconds. */
const START_TIMEOUT_MS = 60_000
const ANSWER_TIMEOUT_MS = 60_000

export class NamespaceProcess {
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>()
  #next = 1
  stderr = ''

  private constructor(readonly namespace: string, readonly child: ChildProcess) {}

  static async start(namespace: string): Promise<NamespaceProcess> {
    const command = inNamespace(namespace, [process.execPath, '--import', 'tsx', CHILD])
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    const made = new NamespaceProcess(namespace, child)
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (made.stderr += chunk))
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${namespace}: child not ready within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
      child.once('exit', (code) => reject(new Error(`${namespace}: child exited (${code}) while starting: ${made.stderr}`)))
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as { ready?: true; id?: number; result?: unknown; error?: string }
        if (message.ready === true) {
          clearTimeout(timer)
          return resolve()
        }
        const waiter = made.#waiting.get(message.id!)
        made.#waiting.delete(message.id!)
        if (message.error !== undefined) waiter?.reject(new Error(`${namespace}: ${message.error}`))
        else waiter?.resolve(message.result)
      })
    })
    child.once('exit', () => {
      for (const waiter of made.#waiting.values()) waiter.reject(new Error(`${namespace}: child exited; stderr: ${made.stderr}`))
      made.#waiting.clear()
    })
    await ready
    return made
  }

  call<T>(op: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.namespace}: no answer to ${op} within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS)
      this.#waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer)
          resolve(value as T)
        },
        reject: (error) => {
          clearTimeout(timer)
          reject(error)
        },
      })
      this.child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`)
    })
  }

  /** Ends it as a crash would: no close(), so its rules stay behind. */
  kill(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve()
      this.child.once('exit', () => resolve())
      this.child.kill('SIGKILL')
    })
  }

  /** Closes its stdin, which ends it; resolves when it exited. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve()
      this.child.once('exit', () => resolve())
      this.child.stdin!.end()
    })
  }
}
