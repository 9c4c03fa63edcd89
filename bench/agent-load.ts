// Three real agents under a heavy desired-state load, at the size of the finding it reproduces: one
// apply of 2,000 services (replicas 0), 200 applies in a row, then an applier on each agent at once
// (test/node/agent/load-scenario.ts; the suite runs it with fewer concurrent applies). Prints one JSON
// line: each phase's time, each agent's peak RSS and connection faults. BENCHMARKS.md has the figures.
//
//   npm run bench -- agent-load [--services N] [--applies N] [--concurrent N] [--cli dist/bin/main.js] [--keep]

import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { FULL_LOAD, runLoad, type LoadSizes } from '../test/node/agent/load-scenario.js'
import { optionOf } from './bench-args.js'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)

const option = (name: string): string | undefined => optionOf(args, name)

function count(name: string, fallback: number): number {
  const text = option(name)
  const value = text === undefined ? fallback : Number(text)
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1, got ${JSON.stringify(text)}`)
  return value
}

const sizes: LoadSizes = {
  services: count('--services', FULL_LOAD.services),
  applies: count('--applies', FULL_LOAD.applies),
  concurrentApplies: count('--concurrent', FULL_LOAD.concurrentApplies),
}
const builtCli = option('--cli')
const command = builtCli === undefined ? [process.execPath, '--import', 'tsx', join(REPO, 'cli', 'main.ts')] : [process.execPath, resolve(builtCli)]
const keep = args.includes('--keep')
const MiB = 2 ** 20

const base = await mkdtemp(join(tmpdir(), 'peer-load-'))
const log = (line: string): void => void process.stderr.write(`[agent-load ${new Date().toISOString().slice(11, 23)}] ${line}\n`)
log(`agents in ${base}; ${JSON.stringify(sizes)}`)
const loadBefore = loadavg()[0]!
try {
  const result = await runLoad({ base, sizes, command, log })
  console.log(JSON.stringify({
    bench: 'agent-load',
    ...sizes,
    agents: result.agents.length,
    cli: builtCli === undefined ? 'tsx' : 'built',
    phasesMs: result.phases,
    sequentialApplyMs: result.sequentialApplyMs,
    peakRssMB: result.agents.map((agent) => Math.round(agent.peakRssBytes / MiB)),
    vmHwmMB: result.agents.map((agent) => (agent.vmHwmBytes === null ? null : Math.round(agent.vmHwmBytes / MiB))),
    endRssMB: result.agents.map((agent) => Math.round(agent.rssBytes / MiB)),
    endHeapUsedMB: result.agents.map((agent) => Math.round(agent.heapUsedBytes / MiB)),
    endExternalMB: result.agents.map((agent) => Math.round(agent.externalBytes / MiB)),
    connectionFaults: result.agents.map((agent) => agent.connectionFaults),
    syncFailures: result.agents.map((agent) => agent.syncFailures),
    statsUnanswered: result.agents.map((agent) => agent.statsUnanswered),
    // Each agent's view of the others while they were busy: how often it suspected one, declared one dead.
    suspected: result.agents.map((agent) => agent.membersNotAlive.filter((change) => change.includes(':suspect@')).length),
    declaredDead: result.agents.map((agent) => agent.membersNotAlive.filter((change) => change.includes(':dead@')).length),
    converged: true,
    loadAverage: { before: Math.round(loadBefore * 100) / 100, after: Math.round(loadavg()[0]! * 100) / 100 },
  }))
} finally {
  if (keep) log(`kept ${base}`)
  else await rm(base, { recursive: true, force: true })
}
