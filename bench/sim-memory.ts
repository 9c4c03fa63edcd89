// Where the simulator's memory per pair of peers goes. N peers join (membership only, LAN, as in
// `npm run bench -- scale`) and settle; at `--at` every machine's state is taken apart one structure
// at a time — each Map, Set, array and typed array the machine and its parts hold, cleared in every
// machine at once — and the live heap and typed arrays are measured after a forced garbage
// collection each time. A structure's figure is what clearing it freed, divided by N²; an object
// several structures hold counts with the last of them cleared (member records are held by the
// member table and the piggyback queue). What is left when the machines themselves are dropped
// ("rest") is their objects and their per-peer parts, which grow with N, not N². (The run goes on
// for 50 ms after, its machines gone; that is not measured.)
//
// It reads the machines' private fields by name: a diagnostic, not an interface. Prints one JSON line.
//
//   npm run bench -- sim-memory                  (1,000 peers, state at 14.9 s)
//   npm run bench -- sim-memory --peers 2000 --at 14900

import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { optionOf } from './bench-args.js'
import { seededRandom, type PeerMachine } from '../core/index.js'
import { NO_FAULTS, networkConfigWithFaults } from '../sim/faults.js'
import { NETWORK_PROFILES } from '../sim/network.js'
import { Simulation } from '../sim/runner.js'
import { syntheticPeerViews } from '../sim/workload.js'

/** Parts of a machine that are its configuration or its links to others, not its state. */
const NOT_STATE = new Set(['config', 'deps', 'host', 'random', 'init', 'windows', 'numbers', 'observe'])
/** How deep below the machine to look for structures (machine.members.members.entries is 3). */
const DEPTH = 3

type Holder = Record<string, unknown>

function measure(peers: number, atMs: number, collect: () => void): void {
  const live = (): number => {
    collect()
    collect()
    const memory = process.memoryUsage()
    return memory.heapUsed + memory.arrayBuffers
  }
  const before = live()
  const views = syntheticPeerViews(seededRandom(1).fork('peers'), peers)
  const pairs = peers * peers
  let taken = false
  new Simulation({
    seed: 1, peers: views, services: [], durationMs: atMs + 50, faults: NO_FAULTS, faultPlan: [],
    network: networkConfigWithFaults(NETWORK_PROFILES.lan, NO_FAULTS), profile: 'lan',
    watch: {
      step(nowMs, simulated) {
        if (taken || nowMs < atMs) return
        taken = true
        let machines = simulated.map((p) => p.machine).filter((m): m is PeerMachine => m !== undefined) as unknown as Holder[]
        const total = live() - before
        let last = live()
        const byStructure: Record<string, number> = {}
        const freed = (label: string): void => {
          const now = live()
          byStructure[label] = Math.round(((last - now) / pairs) * 10) / 10
          last = now
        }
        const visit = (path: readonly string[], at: (machine: Holder) => Holder): void => {
          const sample = at(machines[0]!)
          for (const [key, value] of Object.entries(sample)) {
            if (typeof value !== 'object' || value === null || NOT_STATE.has(key)) continue
            const label = [...path, key].join('.')
            if (value instanceof Map || value instanceof Set) {
              for (const machine of machines) (at(machine)[key] as Map<unknown, unknown> | Set<unknown>).clear()
              freed(label)
            } else if (Array.isArray(value)) {
              for (const machine of machines) at(machine)[key] = []
              freed(label)
            } else if (ArrayBuffer.isView(value)) {
              const empty = value.constructor as new (length: number) => unknown
              for (const machine of machines) at(machine)[key] = new empty(0)
              freed(label)
            } else if (value.constructor !== Object && path.length < DEPTH) {
              visit([...path, key], (machine) => at(machine)[key] as Holder)
            }
          }
        }
        visit([], (machine) => machine)
        for (const peer of simulated) (peer as { machine: unknown }).machine = undefined
        machines = []
        freed('rest')
        const significant = Object.fromEntries(Object.entries(byStructure).filter(([, bytes]) => Math.abs(bytes) >= 0.5).sort((a, b) => b[1] - a[1]))
        console.log(JSON.stringify({ bench: 'sim-memory', peers, atMs, liveBytesPerPair: Math.round(total / pairs), byStructure: significant }))
      },
    },
  }).run()
}

const args = process.argv.slice(2)
const peers = Number(optionOf(args, '--peers') ?? '1000')
const atMs = Number(optionOf(args, '--at') ?? '14900')
if (!Number.isSafeInteger(peers) || peers < 3) throw new Error(`--peers: ${peers} is not a whole number of at least 3`)
if (!(atMs > 1_000)) throw new Error(`--at: ${atMs} ms is before the peers have joined`)
const collect = (globalThis as { gc?: () => void }).gc
if (collect !== undefined) {
  measure(peers, atMs, collect)
} else {
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', '--max-old-space-size=20480', fileURLToPath(import.meta.url), ...args], { stdio: 'inherit' })
  process.exit(child.status ?? 1)
}
