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
  // One line per strategy over the resources in order (x = 1, 2, …): a bar chart's information in a line chart.
  const charts: ReportChart[] = [
    {
      title: `Allocated share per resource (x: ${resources.map((r, i) => `${i + 1} = ${r}`).join(', ')})`,
      xLabel: 'resource', yLabel: '% of capacity allocated', yMin: 0, yMax: 100,
      lines: json.strategies.map((s) => ({ name: s.strategy, points: resources.map((r, i) => [i + 1, percent(s.resources[r]?.allocatedShare ?? 0)] as const) })),
    },
    {
      title: `Stranded share per resource (x: ${resources.map((r, i) => `${i + 1} = ${r}`).join(', ')})`,
      xLabel: 'resource', yLabel: '% of capacity free but unusable', yMin: 0,
      lines: json.strategies.map((s) => ({ name: s.strategy, points: resources.map((r, i) => [i + 1, percent(s.resources[r]?.strandedShare ?? 0)] as const) })),
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
        points: sizes.map((size) => [size, percent(Math.min(...json.rows.filter((r) => r.peers === size).map((r) => r.resources[name]?.headroom ?? 1)))] as const),
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
