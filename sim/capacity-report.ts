// Report data for the capacity studies (`--fill`, `--sweep`): cards for the answer and charts over
// fleet size or strategy, rendered by the same self-contained HTML report as a simulation run.

import type { FillJson } from './fill.js'
import type { ReportChart, ReportData } from './report.js'
import { resourceOrder } from './resource-names.js'
import type { SweepJson } from './sweep.js'

export function fillReport(json: FillJson, reproduce: string): ReportData {
  const summary: Record<string, number | string> = { seed: json.seed, peers: json.peers, 'services to draw from': json.workloadServices, 'stop after failures in a row': json.failuresInRow }
  for (const result of json.strategies) {
    summary[`${result.strategy}: services placed`] = result.servicesPlaced
    summary[`${result.strategy}: replicas placed`] = result.replicasPlaced
    summary[`${result.strategy}: peers in use`] = result.peersInUse
    for (const [name, r] of Object.entries(result.resources)) {
      summary[`${result.strategy}: ${name} allocated (%)`] = percent(r.allocatedShare)
      summary[`${result.strategy}: ${name} stranded (%)`] = percent(r.strandedShare)
    }
  }
  const resources = resourceOrder(json.strategies.flatMap((s) => Object.keys(s.resources)))
  const charts: ReportChart[] = [
    {
      kind: 'bars', title: 'Allocated share of each resource, per strategy', yLabel: '% of capacity allocated', yMax: 100, categories: resources,
      series: json.strategies.map((s) => ({ name: s.strategy, values: resources.map((r) => percent(s.resources[r]?.allocatedShare ?? 0)) })),
    },
    {
      kind: 'bars', title: 'Stranded share of each resource, per strategy (free where the typical service no longer fits)', yLabel: '% of capacity stranded', categories: resources,
      series: json.strategies.map((s) => ({ name: s.strategy, values: resources.map((r) => percent(s.resources[r]?.strandedShare ?? 0)) })),
    },
  ]
  return {
    title: `peer sim --fill — ${json.peers} peers, ${json.strategies.map((s) => s.strategy).join(' vs ')}`,
    seed: json.seed, summary, placementLatencyMs: [], series: [], violations: [], reproduce, latency: false, charts,
    verdict: { text: json.strategies.map((s) => `${s.strategy}: ${s.servicesPlaced} services fit`).join(' · '), pass: true },
  }
}

export function sweepReport(json: SweepJson, reproduce: string): ReportData {
  const summary: Record<string, number | string> = {
    seed: json.seed, profile: json.profile, services: json.services, replicas: json.replicas, 'losses survived': json.losses.join(', '),
    'smallest fleet': json.smallestFleet ?? 'none of the sizes',
    'replicas ruled out by constraints (worst loss)': Math.max(0, ...json.rows.map((r) => r.replicasRuledOut)),
  }
  for (const [loss, resources] of Object.entries(json.headroom ?? {})) {
    for (const [name, headroom] of Object.entries(resources)) summary[`headroom after ${loss === 'none' ? 'no loss' : `losing ${loss}`}: ${name} (%)`] = percent(headroom)
  }
  const sizes = [...new Set(json.rows.map((r) => r.peers))]
  const resources = resourceOrder(json.rows.flatMap((r) => Object.keys(r.resources)))
  const charts: ReportChart[] = [
    {
      title: 'Replicas placed by fleet size, after each loss',
      xLabel: 'peers', yLabel: '% of replicas placed', yMin: 0, yMax: 100,
      lines: json.losses.map((loss) => ({
        name: loss === 'none' ? 'no loss' : `after losing ${loss}`,
        points: json.rows.filter((r) => r.loss === loss).map((r) => [r.peers, json.replicas === 0 ? 100 : percent(r.replicasPlaced / json.replicas)] as const),
      })),
    },
    {
      title: 'Headroom by fleet size, after the worst loss',
      xLabel: 'peers', yLabel: '% of capacity free', yMin: 0, yMax: 100,
      lines: resources.map((name) => ({
        name,
        // A size whose fleet has none of the resource has no point on its line.
        points: sizes.flatMap((size) => {
          const headrooms = json.rows.filter((r) => r.peers === size && r.resources[name] !== undefined).map((r) => r.resources[name]!.headroom)
          return headrooms.length === 0 ? [] : [[size, percent(Math.min(...headrooms))] as const]
        }),
      })),
    },
  ]
  const answer = json.smallestFleet === null
    ? `no size places everything after ${json.losses.join(' / ')}`
    : `smallest fleet: ${json.smallestFleet} peers`
  return {
    title: `peer sim --sweep — ${json.replicas} replicas on ${sizes.join(', ')} peers`,
    seed: json.seed, summary, placementLatencyMs: [], series: [], violations: [], reproduce, latency: false, charts,
    verdict: { text: answer, pass: json.smallestFleet !== null },
  }
}

const percent = (share: number): number => Math.round(share * 1000) / 10
