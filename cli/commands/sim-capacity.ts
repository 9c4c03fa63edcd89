// The capacity studies of `peer sim`: --fill (how much of this workload does this fleet hold, per
// strategy) and --sweep (the smallest fleet that holds it through a loss). Options are checked by
// `peer sim`; this file runs them and prints the answer as text, or as one stable JSON object.

import { writeFile } from 'node:fs/promises'
import type { PeerView, ServiceSpec, Strategy } from '../../core/index.js'
import { fill, fillReport, renderHtmlReport, sweep, sweepReport, type FillJson, type Loss, type PeerProfile, type SweepJson } from '../../sim/index.js'
import { EXIT_OK, EXIT_UNPLACEABLE } from '../exit-codes.js'
import { table } from '../table.js'
import { resourceOrder } from '../../sim/index.js'
import { perSecond, progressLine } from './sim-progress.js'

export interface CapacityOutput {
  readonly json: boolean
  readonly report: string | undefined
  readonly reproduce: string
}

export interface FillRun {
  readonly seed: number
  readonly peers: readonly PeerView[]
  readonly services: readonly ServiceSpec[]
  readonly strategies: readonly Strategy[]
  readonly failuresInRow: number
}

export async function runFill(run: FillRun, output: CapacityOutput): Promise<number> {
  const started = performance.now()
  const progress = progressLine({ enabled: process.stderr.isTTY === true && !output.json })
  const result = fill({
    ...run,
    onProgress: ({ strategy, arrivals, placed }) => {
      const elapsed = performance.now() - started
      progress.update(undefined, `fill (${strategy}): ${arrivals} arrivals, ${placed} placed, ${perSecond(arrivals, elapsed)} arrivals/s`)
    },
  })
  progress.done()
  if (output.report !== undefined) await writeFile(output.report, renderHtmlReport(fillReport(result, output.reproduce)))
  process.stdout.write(output.json ? `${JSON.stringify(result)}\n` : fillText(result))
  process.stderr.write(`filled in ${((performance.now() - started) / 1000).toFixed(1)}s wall\n`)
  return EXIT_OK
}

export interface SweepRun {
  readonly seed: number
  readonly sizes: readonly number[]
  readonly profile: PeerProfile
  readonly services: readonly ServiceSpec[]
  readonly losses: readonly Loss[]
}

export async function runSweep(run: SweepRun, output: CapacityOutput): Promise<number> {
  const started = performance.now()
  const progress = progressLine({ enabled: process.stderr.isTTY === true && !output.json })
  const result = sweep({
    ...run,
    onProgress: ({ sizes, of }) => progress.update(sizes / of, `sweep: ${sizes} of ${of} fleet sizes`),
  })
  progress.done()
  if (output.report !== undefined) await writeFile(output.report, renderHtmlReport(sweepReport(result, output.reproduce)))
  process.stdout.write(output.json ? `${JSON.stringify(result)}\n` : sweepText(result))
  process.stderr.write(`swept in ${((performance.now() - started) / 1000).toFixed(1)}s wall\n`)
  // Like an unplaceable `peer plan`: no size holds the workload through the losses asked for.
  return result.smallestFleet === null ? EXIT_UNPLACEABLE : EXIT_OK
}

const pct = (share: number): string => `${(share * 100).toFixed(1)}%`

export function fillText(json: FillJson): string {
  const typical = Object.entries(json.typical).map(([name, amount]) => `${name} ${amount}${name === 'cpu' ? 'm' : name === 'memory' ? 'Mi' : ''}`).join(', ')
  const lines = [
    `Filled ${json.peers} peers from ${json.workloadServices} services (seed ${json.seed}), until ${json.failuresInRow} arrivals in a row found no room`,
    '',
  ]
  const resources = resourceOrder(json.strategies.flatMap((s) => Object.keys(s.resources)))
  lines.push(table(
    ['STRATEGY', 'SERVICES', 'REPLICAS', 'PEERS USED', ...resources.map((r) => `${r.toUpperCase()} ALLOCATED`), ...resources.map((r) => `${r.toUpperCase()} STRANDED`)],
    json.strategies.map((s) => [
      s.strategy, String(s.servicesPlaced), String(s.replicasPlaced), String(s.peersInUse),
      ...resources.map((r) => (s.resources[r] === undefined ? '-' : pct(s.resources[r].allocatedShare))),
      ...resources.map((r) => (s.resources[r] === undefined ? '-' : pct(s.resources[r].strandedShare))),
    ]),
  ))
  lines.push('', `stranded: free on peers where the typical service (${typical}) no longer fits`)
  for (const s of json.strategies) {
    if (s.stoppedBy === 'arrival-limit') lines.push(`${s.strategy}: stopped after ${s.arrivals} arrivals without ${json.failuresInRow} failures in a row`)
  }
  return `${lines.join('\n')}\n`
}

export function sweepText(json: SweepJson): string {
  const resources = resourceOrder(json.rows.flatMap((r) => Object.keys(r.resources)))
  const headroom = (r: SweepJson['rows'][number], name: string) => (r.resources[name] === undefined ? '-' : pct(r.resources[name].headroom))
  const lines = [
    `Swept ${json.replicas} replicas in ${json.services} services over ${[...new Set(json.rows.map((r) => r.peers))].join(', ')} ${json.profile} peers (seed ${json.seed})`,
    '',
    table(
      ['PEERS', 'LOSS', 'LOST', 'PLACED', 'PENDING', 'RULED OUT', ...resources.map((r) => `${r.toUpperCase()} HEADROOM`)],
      json.rows.map((r) => [
        String(r.peers), r.loss, r.lost === '' ? '-' : r.lost, String(r.replicasPlaced), String(r.replicasPending), String(r.replicasRuledOut),
        ...resources.map((name) => headroom(r, name)),
      ]),
    ),
    '',
  ]
  const survived = json.losses.filter((l) => l !== 'none').map((l) => (l === 'zone' ? 'any one zone' : `${l} of the peers`))
  const question = survived.length === 0 ? 'places everything' : `places everything and keeps it placed after losing ${survived.join(' or ')}`
  const ruledOut = Math.max(0, ...json.rows.map((r) => r.replicasRuledOut))
  if (ruledOut > 0) lines.push(`ruled out: up to ${ruledOut} replicas whose constraints only lost peers meet (a service pinned to the lost zone); no fleet size saves them`)
  if (json.smallestFleet === null) {
    lines.push(`no size tried ${question}; try larger fleets`)
  } else {
    lines.push(`smallest fleet that ${question}: ${json.smallestFleet} peers`)
    for (const [loss, headroom] of Object.entries(json.headroom ?? {})) {
      lines.push(`  headroom ${loss === 'none' ? 'with no loss' : `after losing ${loss}`}: ${Object.entries(headroom).map(([name, h]) => `${name} ${pct(h)}`).join(', ')}`)
    }
  }
  return `${lines.join('\n')}\n`
}
