// `npm run nemesis -- --hosts 5 --duration 60s --seed 7 --json`: real agents in network namespaces
// through a seeded schedule of faults (test/hosts/nemesis.ts), judged by the checker. Prints one
// JSON object (with --json) or a summary, and exits 1 when the verdict is not valid — so a seed that
// finds a bug fails wherever it is run, and the same seed reproduces the same schedule.
//
//   --hosts N          hosts (default 5); the service has 2 × N replicas
//   --duration D       how long faults go on: 60s, 2m, 90000ms (default 60s)
//   --seed S           the schedule's seed (default 1)
//   --driver D         process (default) or docker: the service runs as containers of peer-test:latest
//                      on this machine's Docker engine, which every agent reaches by its socket
//   --history DIR      keep the history and verdict as JSON in DIR
//   --report FILE      write an HTML timeline of the run to FILE
//   --json             one JSON object on stdout; progress goes to stderr either way
//
// Needs root (network namespaces, iptables). Everything it makes is removed on every way out.

import { writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { saveHistory } from '../test/hosts/history.js'
import { runNemesis } from '../test/hosts/nemesis.js'
import { timelineHtml } from '../test/hosts/report.js'
import { describeEpisode } from '../test/hosts/schedule.js'

function durationMs(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim())
  if (match === null) throw new Error(`--duration: expected e.g. 60s, 2m or 90000ms, got ${JSON.stringify(text)}`)
  const value = Number(match[1])
  return Math.round(match[2] === 'ms' ? value : match[2] === 'm' ? value * 60_000 : value * 1_000)
}

function wholeNumber(name: string, text: string, least: number): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < least) throw new Error(`--${name}: a whole number of at least ${least}, got ${JSON.stringify(text)}`)
  return value
}

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '5' },
    duration: { type: 'string', default: '60s' },
    seed: { type: 'string', default: '1' },
    driver: { type: 'string', default: 'process' },
    history: { type: 'string' },
    report: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
})

const hosts = wholeNumber('hosts', values.hosts!, 2)
const seed = wholeNumber('seed', values.seed!, 0)
const duration = durationMs(values.duration!)
const driver = values.driver
if (driver !== 'process' && driver !== 'docker') throw new Error(`--driver: process or docker, got ${JSON.stringify(driver)}`)
const log = (line: string): void => void process.stderr.write(`nemesis: ${line}\n`)

const run = await runNemesis({ hosts, durationMs: duration, seed, driver, log })
const { figures, verdict, history, schedule } = run
const historyFile = values.history === undefined ? undefined : saveHistory(values.history, `nemesis-seed${seed}`, history, verdict)
const result = {
  bench: 'nemesis',
  ...figures,
  seed,
  hosts,
  driver,
  durationMs: duration,
  replicas: hosts * 2,
  wallMs: run.wallMs,
  cores: cpus().length,
  loadAverage: run.loadAverage,
  anomalies: verdict.anomalies,
  spuriousMoveList: verdict.moves.filter((move) => move.spurious),
  duplicates: verdict.duplicates,
  failovers: verdict.failovers,
  agentExits: run.agentExits,
  schedule,
  ...(historyFile === undefined ? {} : { historyFile }),
  ...(values.report === undefined ? {} : { reportFile: values.report }),
}
if (values.report !== undefined) {
  const summary = [
    `seed ${seed}, ${hosts} hosts, ${hosts * 2} replicas, faults for ${duration / 1000} s; load average ${run.loadAverage.before.join(' ')} → ${run.loadAverage.after.join(' ')} on ${cpus().length} cores`,
    `valid: ${result.valid}; lost ${figures.lost}; duplicates after heal ${figures.duplicatesAfterHeal} (${figures.duplicateIntervals} brief doubles in all); failover p50 ${figures.failoverMsP50} ms, p99 ${figures.failoverMsP99} ms; spurious moves ${figures.spuriousMoves} of ${figures.moves}; agent crashes ${figures.crashes}; converged ${figures.convergeMs} ms after the final heal`,
    `reproduce: npm run nemesis -- --hosts ${hosts} --duration ${duration / 1000}s --seed ${seed}${driver === 'docker' ? ' --driver docker' : ''} --report <file>`,
  ]
  writeFileSync(values.report, timelineHtml(history, verdict, { title: `peer nemesis, seed ${seed}`, summary }))
}
if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`)
else {
  console.log(`seed ${seed}: ${result.valid ? 'valid' : 'NOT VALID'}`)
  for (const episode of schedule.episodes) console.log(`  ${describeEpisode(episode)}`)
  console.log(`  lost ${figures.lost}, duplicates after heal ${figures.duplicatesAfterHeal}, failover p50 ${figures.failoverMsP50} / p99 ${figures.failoverMsP99} ms, spurious moves ${figures.spuriousMoves}, agent crashes ${figures.crashes}`)
  for (const anomaly of verdict.anomalies) console.log(`  anomaly: ${JSON.stringify(anomaly)}`)
  if (historyFile !== undefined) console.log(`  history: ${historyFile}`)
  if (values.report !== undefined) console.log(`  report: ${values.report}`)
}
process.exitCode = result.valid ? 0 : 1
