// `npm run bench -- real-hosts [--hosts 10] [--runs N] [--only crash,apply]`: the targets of "faults
// on real hosts" measured on real agents, each in its own network namespace on this machine
// (test/hosts/: hosts, nemesis, observer, checker), one JSON line per measure with p50 / p99 / max
// over the runs, the target, whether it was met and the load average before and after.
//
//   --hosts N    hosts (default 10); the cluster's service has 2 × N replicas
//   --runs N     runs of each measure (default 3)
//   --only LIST  measures to run, comma-separated: apply, rolling, crash (failover and restart),
//                pause, partition, loss (default: all, in that order)
//   --cli PATH   run the agents from another build's cli/main.js (default: the bin the tests build)
//   --profile DIR  run each agent under V8's sampling profiler (real-hosts/profiled-agent.mjs); after
//                each measure every agent writes what it sampled to DIR/<host>/<pid>-<n>.cpuprofile;
//                read a window of them with real-hosts/profile-summary.ts (e.g. a heal's, from the
//                "heal at" line). Profiling costs the agents a few % of CPU. The bundled bin's names
//                are minified: with --cli dist/cli/main.js the tables name functions and packages.
//
// Needs root (network namespaces, iptables). Everything it makes is removed on every way out.
// Progress goes to stderr. What each measure does and how it is judged: BENCHMARKS.md, "Faults on
// ten real hosts".

import { parseArgs } from 'node:util'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PEER_COMMAND } from '../test/peer-command.js'
import { withLogTails } from '../test/node/agent/cluster-support.js'
import { startCluster } from '../test/hosts/cluster.js'
import type { Host } from '../test/hosts/hosts.js'
import { applyHundred } from './real-hosts/apply-measure.js'
import { crashAndRestart, lossOnOneLink, partitionHeal, pauseAndResume, type MeasureContext } from './real-hosts/fault-measures.js'
import { loadAverage, printLine, type MeasureLine } from './real-hosts/figures.js'
import { untilAgentsQuiet } from './real-hosts/quiet.js'
import { rollingUpdate } from './real-hosts/rolling-update.js'

/** Agents that load at once: all ten together on two busy cores can miss the harness's ready timeout. */
const START_CONCURRENCY = 2
/** On a machine shared with other work, one agent alone has taken 23 s to listen. */
const READY_TIMEOUT_MS = 120_000

const MEASURES: Record<string, (context: MeasureContext) => Promise<MeasureLine[]>> = {
  apply: applyHundred,
  rolling: rollingUpdate,
  crash: crashAndRestart,
  pause: pauseAndResume,
  partition: partitionHeal,
  loss: lossOnOneLink,
}

/** The wrapper that runs an agent under the profiler (--profile). */
const PROFILED_AGENT = fileURLToPath(new URL('./real-hosts/profiled-agent.mjs', import.meta.url))
/** How long the agents get to write their profiles after the signal. */
const PROFILE_WRITE_MS = 2_000

/** Asks every running agent to write what its profiler sampled (SIGUSR2, profiled-agent.mjs). */
async function writeProfiles(hosts: readonly Host[], dir: string, measure: string): Promise<void> {
  for (const host of hosts) host.agent?.kill('SIGUSR2')
  await new Promise((done) => setTimeout(done, PROFILE_WRITE_MS))
  log(`profiles of the agents through "${measure}" written under ${dir}`)
}

const log = (line: string): void => void process.stderr.write(`[real-hosts ${new Date().toISOString().slice(11, 23)}] ${line}\n`)

try {
  const { values } = parseArgs({
    options: {
      hosts: { type: 'string', default: '10' },
      runs: { type: 'string', default: '3' },
      only: { type: 'string' },
      cli: { type: 'string' },
      profile: { type: 'string' },
    },
    strict: true,
  })
  const count = (flag: 'hosts' | 'runs', least: number): number => {
    const text = values[flag]!
    if (!/^\d+$/.test(text) || Number(text) < least) throw new Error(`--${flag}: expected a whole number ≥ ${least}, got ${JSON.stringify(text)}`)
    return Number(text)
  }
  const hosts = count('hosts', 3)
  const runs = count('runs', 1)
  const chosen = values.only === undefined ? Object.keys(MEASURES) : values.only.split(',').map((name) => name.trim())
  const unknown = chosen.filter((name) => !(name in MEASURES))
  if (unknown.length > 0) throw new Error(`--only: unknown measure ${unknown.join(', ')}; known: ${Object.keys(MEASURES).join(', ')}`)

  // The tests' bin is the command's last part (node -- <bin>).
  const cli = values.cli ?? PEER_COMMAND[PEER_COMMAND.length - 1]!
  const profileDir = values.profile === undefined ? undefined : resolve(values.profile)
  const agents = profileDir === undefined
    ? (values.cli === undefined ? {} : { builtCli: values.cli })
    : { builtCli: PROFILED_AGENT, agentEnvFor: (host: Host) => ({ PEER_PROFILED_CLI: resolve(cli), PEER_PROFILE_DIR: join(profileDir, host.name) }) }
  const cluster = await startCluster(hosts, hosts * 2, log, { startConcurrency: START_CONCURRENCY, readyTimeoutMs: READY_TIMEOUT_MS, ...agents })
  try {
    log(`agents quiet after ${await untilAgentsQuiet(cluster.hosts.hosts)} ms; load average ${loadAverage().join(' ')}`)
    for (const name of chosen) {
      const before = loadAverage()
      const lines = await MEASURES[name]!({ cluster, runs, log })
      for (const line of lines) printLine(hosts, line, before)
      if (profileDir !== undefined) await writeProfiles(cluster.hosts.hosts, profileDir, name)
      await untilAgentsQuiet(cluster.hosts.hosts)
    }
  } catch (error) {
    throw await withLogTails(error, cluster.hosts.hosts.map((host) => host.log))
  } finally {
    cluster.teardown()
  }
} catch (error) {
  process.stderr.write(`real-hosts: ${(error as Error).message}\n`)
  process.exitCode = 1
}
