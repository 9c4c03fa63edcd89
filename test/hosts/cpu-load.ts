// A loaded machine, for tests of what agents do when CPU is short: busy-loop processes that compete
// with the agents for the cores, and pulses that stop each agent (SIGSTOP) for a moment and let it
// run again (SIGCONT), as a host whose event loop gets the CPU only now and then. Pulses are drawn
// from a seed. Everything it starts or stops is undone by stop(), and by the process's 'exit' too,
// so a failed test leaves no busy loop spinning and no agent stopped.

import { spawn, type ChildProcess } from 'node:child_process'
import { seededRandom, type Random } from '../../core/index.js'
import type { Host } from './hosts.js'

export interface PulseOptions {
  /** How long a pulse stops an agent, ms: [shortest, longest]. */
  readonly pauseMs: readonly [number, number]
  /** How long an agent runs between pulses, ms: [shortest, longest]. */
  readonly runMs: readonly [number, number]
  readonly seed: number
}

export class CpuLoad {
  private readonly loops: ChildProcess[] = []
  private readonly timers = new Set<NodeJS.Timeout>()
  /** Agents stopped by a pulse right now, by pid. */
  private readonly stopped = new Set<number>()
  private running = true
  /** Pulses given, for the report. */
  pulses = 0
  private readonly onExit = (): void => this.stop()

  /** Starts `busyLoops` busy-loop processes, each wanting one core. */
  constructor(busyLoops: number) {
    process.once('exit', this.onExit)
    for (let i = 0; i < busyLoops; i++) {
      // A shell loop costs no start-up and no memory, and spins one core flat out.
      this.loops.push(spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }))
    }
  }

  /** From now on, stops each of `hosts`' agents now and then, as `options` say, until stop(). */
  pulse(hosts: readonly Host[], options: PulseOptions): void {
    const random = seededRandom(options.seed)
    for (const host of hosts) this.schedulePulse(host, options, random.fork(host.name))
  }

  /** Ends the load: busy loops killed, every agent a pulse stopped let run again. */
  stop(): void {
    if (!this.running) return
    this.running = false
    process.off('exit', this.onExit)
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const pid of this.stopped) signal(pid, 'SIGCONT')
    this.stopped.clear()
    for (const loop of this.loops) loop.kill('SIGKILL')
  }

  private schedulePulse(host: Host, options: PulseOptions, random: Random): void {
    const [runLow, runHigh] = options.runMs
    const [pauseLow, pauseHigh] = options.pauseMs
    this.after(runLow + random.next() * (runHigh - runLow), () => {
      const pid = host.agent?.pid
      if (pid === undefined) return this.schedulePulse(host, options, random)
      signal(pid, 'SIGSTOP')
      this.stopped.add(pid)
      this.pulses++
      this.after(pauseLow + random.next() * (pauseHigh - pauseLow), () => {
        signal(pid, 'SIGCONT')
        this.stopped.delete(pid)
        this.schedulePulse(host, options, random)
      })
    })
  }

  private after(ms: number, action: () => void): void {
    if (!this.running) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      if (this.running) action()
    }, ms)
    this.timers.add(timer)
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // The agent ended meanwhile.
  }
}
