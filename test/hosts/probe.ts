// A client process inside a namespace (probe-client.mjs), for the test to ask from there what a
// machine on the hosts' network, or a process on a host, would see: an HTTP answer or a DNS answer.
// It also runs a request loop whose every outcome is kept with its time, for failover figures. Stopped with stop(); a namespace's teardown kills it too.

import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { inNamespace } from './command.js'

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'probe-client.mjs')
/** Longer than the client's own 2 s timeouts, with room for a slow start on a busy machine. */
const ANSWER_TIMEOUT_MS = 30_000

export interface ProbeAnswer {
  readonly ok: boolean
  readonly status?: number
  readonly body?: string
  readonly error?: string
  readonly code?: string
  readonly records?: unknown[]
}

/** One request of the loop: where to, when it was sent (ms since the epoch) and what came back. */
export interface LoopResult extends ProbeAnswer {
  readonly url: string
  readonly at: number
  /** How long the answer (or the failure) took. */
  readonly ms: number
}

export class Probe {
  /** Every answer of the request loop, in order. */
  readonly results: LoopResult[] = []
  private readonly waiting = new Map<number, (answer: ProbeAnswer) => void>()
  private nextId = 1
  private readonly exited: Promise<void>

  private constructor(private readonly child: ChildProcess, readonly namespace: string) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const answer = JSON.parse(line) as ProbeAnswer & { id?: number; loop?: boolean; url?: string; at?: number }
      if (answer.loop === true) this.results.push(answer as LoopResult)
      else if (answer.id !== undefined) {
        this.waiting.get(answer.id)?.(answer)
        this.waiting.delete(answer.id)
      }
    })
  }

  static start(namespace: string): Probe {
    const command = inNamespace(namespace, [process.execPath, SCRIPT])
    const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] })
    return new Probe(child, namespace)
  }

  http(url: string): Promise<ProbeAnswer> {
    return this.ask({ op: 'http', url })
  }

  /** A lookup with Node's dns.Resolver pointed at `server` (`address:port`). */
  dns(server: string, type: 'A' | 'SRV', name: string): Promise<ProbeAnswer> {
    return this.ask({ op: 'dns', server, type, name })
  }

  /** Requests each of `urls` once every `intervalMs` (each on its own), until stopped; results land in `results`. */
  loop(urls: readonly string[], intervalMs: number): void {
    this.child.stdin!.write(`${JSON.stringify({ op: 'loop', urls, intervalMs })}\n`)
  }

  async stop(): Promise<void> {
    this.child.stdin!.destroy()
    this.child.kill('SIGKILL')
    await this.exited
  }

  private ask(question: Record<string, unknown>): Promise<ProbeAnswer> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new Error(`probe in ${this.namespace}: no answer to ${JSON.stringify(question)} within ${ANSWER_TIMEOUT_MS} ms`))
      }, ANSWER_TIMEOUT_MS)
      this.waiting.set(id, (answer) => {
        clearTimeout(timer)
        resolve(answer)
      })
      void this.exited.then(() => reject(new Error(`probe in ${this.namespace} exited`)))
      this.child.stdin!.write(`${JSON.stringify({ id, ...question })}\n`)
    })
  }
}
