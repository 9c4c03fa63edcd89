// The run as a page a person reads: one self-contained HTML file (inline SVG and CSS, nothing
// fetched). On top, one row per host with the faults on it as coloured bands and the writes as
// ticks; below, one row per slot showing where its copies ran over time, each host in its own
// colour, two copies as stacked stripes outlined in red; the checker's anomalies as red marks and
// listed underneath. Every shape carries a tooltip with its exact times.

import type { Anomaly, Verdict } from './checker.js'
import type { FaultRecord, History } from './history.js'

const WIDTH = 1200
const LABEL = 90
const HOST_ROW = 24
const SLOT_ROW = 14
const AXIS = 24
const HOST_COLOURS = ['#4e79a7', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#bab0ac', '#86bcb6', '#8cd17d', '#d4a6c8']
const FAULT_COLOURS: Record<FaultRecord['kind'], string> = { crash: '#e15759', kill: '#f28e2b', pause: '#bcbd22', loss: '#ff9da7', partition: '#a0cbe8', 'one-way': '#86bcb6', 'disk-full': '#b07aa1' }

const escape = (text: string): string => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

interface Segment {
  readonly fromMs: number
  readonly toMs: number
  readonly hosts: readonly string[]
}

/** Runs of samples in which a slot ran on the same hosts. */
function segmentsBySlot(history: History): Map<string, Segment[]> {
  const slots = new Set<string>()
  for (const sample of history.samples) for (const copy of sample.copies) slots.add(copy.slot)
  const bySlot = new Map<string, Segment[]>([...slots].map((slot) => [slot, []]))
  const open = new Map<string, { fromMs: number; key: string; hosts: string[] }>()
  const endMs = history.samples.at(-1)?.atMs ?? 0
  for (const sample of history.samples) {
    const hostsOf = new Map<string, string[]>()
    for (const copy of sample.copies) hostsOf.set(copy.slot, [...(hostsOf.get(copy.slot) ?? []), copy.host])
    for (const slot of slots) {
      const hosts = (hostsOf.get(slot) ?? []).sort()
      const key = hosts.join(' ')
      const current = open.get(slot)
      if (current?.key === key) continue
      if (current !== undefined && current.hosts.length > 0) bySlot.get(slot)!.push({ fromMs: current.fromMs, toMs: sample.atMs, hosts: current.hosts })
      open.set(slot, { fromMs: sample.atMs, key, hosts })
    }
  }
  for (const [slot, current] of open) if (current.hosts.length > 0) bySlot.get(slot)!.push({ fromMs: current.fromMs, toMs: endMs, hosts: current.hosts })
  return bySlot
}

const slotOrder = (a: string, b: string): number => {
  const [sa, ia] = a.split('/')
  const [sb, ib] = b.split('/')
  return sa!.localeCompare(sb!) || Number(ia) - Number(ib)
}

export interface ReportInfo {
  readonly title: string
  /** Lines shown above the timeline (the figures, the seed). */
  readonly summary: readonly string[]
}

export function timelineHtml(history: History, verdict: Verdict, info: ReportInfo): string {
  const endMs = Math.max(1, history.samples.at(-1)?.atMs ?? 1)
  const x = (ms: number): number => LABEL + (Math.max(0, Math.min(ms, endMs)) / endMs) * (WIDTH - LABEL - 10)
  const hostNames = history.hosts.map((host) => host.name)
  const colour = (host: string): string => HOST_COLOURS[hostNames.indexOf(host) % HOST_COLOURS.length] ?? '#888'
  const segments = segmentsBySlot(history)
  const slots = [...segments.keys()].sort(slotOrder)
  const hostTop = AXIS
  const slotTop = hostTop + hostNames.length * HOST_ROW + 16
  const height = slotTop + slots.length * SLOT_ROW + 10
  const parts: string[] = []

  // Time axis, every 10 s.
  for (let ms = 0; ms <= endMs; ms += 10_000) {
    parts.push(`<line x1="${x(ms)}" y1="${AXIS - 4}" x2="${x(ms)}" y2="${height}" class="grid"/><text x="${x(ms)}" y="${AXIS - 8}" class="tick">${ms / 1000} s</text>`)
  }
  // Host rows and the faults on them.
  for (const [i, host] of hostNames.entries()) {
    const top = hostTop + i * HOST_ROW
    parts.push(`<text x="4" y="${top + HOST_ROW / 2 + 4}" class="label" fill="${colour(host)}">${escape(host)}</text>`)
    parts.push(`<rect x="${LABEL}" y="${top + 2}" width="${WIDTH - LABEL - 10}" height="${HOST_ROW - 4}" class="lane"/>`)
    for (const fault of history.faults.filter((candidate) => candidate.hosts.includes(host))) {
      const toMs = fault.toMs ?? endMs
      const what = `${fault.kind}${fault.detail === undefined ? '' : ` ${fault.detail}`}: ${seconds(fault.fromMs)} – ${seconds(toMs)}`
      parts.push(`<rect x="${x(fault.fromMs)}" y="${top + 2}" width="${Math.max(2, x(toMs) - x(fault.fromMs))}" height="${HOST_ROW - 4}" fill="${FAULT_COLOURS[fault.kind]}" opacity="0.85"><title>${escape(what)}</title></rect>`)
      parts.push(`<text x="${x(fault.fromMs) + 3}" y="${top + HOST_ROW / 2 + 4}" class="band">${escape(fault.kind)}</text>`)
    }
    for (const operation of (history.operations ?? []).filter((candidate) => candidate.host === host)) {
      const what = `${operation.kind} via ${host} (${operation.ok ? 'ok' : 'failed'}): ${operation.detail}, ${seconds(operation.fromMs)} – ${seconds(operation.toMs)}`
      parts.push(`<path d="M${x(operation.fromMs)} ${top + 2} l-5 -6 h10 z" fill="${operation.ok ? '#333' : '#e15759'}"><title>${escape(what)}</title></path>`)
    }
  }
  // Slot rows: where each copy ran.
  for (const [i, slot] of slots.entries()) {
    const top = slotTop + i * SLOT_ROW
    parts.push(`<text x="4" y="${top + SLOT_ROW - 3}" class="slot">${escape(slot)}</text>`)
    for (const segment of segments.get(slot)!) {
      const left = x(segment.fromMs)
      const width = Math.max(1, x(segment.toMs) - left)
      const stripe = (SLOT_ROW - 2) / segment.hosts.length
      const what = `${slot} on ${segment.hosts.join(' + ')}: ${seconds(segment.fromMs)} – ${seconds(segment.toMs)}`
      const stripes = segment.hosts.map((host, k) => `<rect x="${left}" y="${top + 1 + k * stripe}" width="${width}" height="${stripe}" fill="${colour(host)}"/>`).join('')
      const outline = segment.hosts.length > 1 ? `<rect x="${left}" y="${top + 1}" width="${width}" height="${SLOT_ROW - 2}" class="twice"/>` : ''
      parts.push(`<g><title>${escape(what)}</title>${stripes}${outline}</g>`)
    }
  }
  // Anomalies: a mark on the slot's row (or across the slots for one without a slot).
  for (const anomaly of verdict.anomalies) {
    const row = anomaly.slot === undefined ? -1 : slots.indexOf(anomaly.slot)
    const top = row < 0 ? slotTop : slotTop + row * SLOT_ROW
    const rowHeight = row < 0 ? slots.length * SLOT_ROW : SLOT_ROW
    parts.push(`<rect x="${x(anomaly.fromMs)}" y="${top}" width="${Math.max(3, x(anomaly.toMs) - x(anomaly.fromMs))}" height="${rowHeight}" class="anomaly"><title>${escape(describeAnomaly(anomaly))}</title></rect>`)
  }

  const legend = [
    ...hostNames.map((host) => `<span><i style="background:${colour(host)}"></i>${escape(host)}</span>`),
    ...Object.entries(FAULT_COLOURS).map(([kind, fill]) => `<span><i style="background:${fill}"></i>${kind}</span>`),
    '<span><i class="twice-key"></i>ran twice</span><span><i class="anomaly-key"></i>anomaly</span><span>▼ write</span>',
  ].join('')
  const anomalies = verdict.anomalies.length === 0 ? '<p>No anomalies.</p>' : `<ol>${verdict.anomalies.map((anomaly) => `<li>${escape(describeAnomaly(anomaly))}</li>`).join('')}</ol>`
  const faultList = `<ol>${history.faults.map((fault) => `<li>${escape(`${seconds(fault.fromMs)} – ${fault.toMs === undefined ? 'end' : seconds(fault.toMs)}: ${fault.kind} ${fault.detail ?? fault.hosts.join(' ')}`)}</li>`).join('')}</ol>`
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(info.title)}</title>
<style>
body { font: 13px system-ui, sans-serif; margin: 16px; color: #222; }
h1 { font-size: 18px; margin: 0 0 6px; }
.summary { margin: 0 0 8px; color: #444; }
.legend span { margin-right: 14px; white-space: nowrap; } .legend i { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -2px; }
.twice-key { outline: 2px solid #d62728; background: #ddd; } .anomaly-key { background: rgba(214,39,40,.35); }
svg text { font: 11px system-ui, sans-serif; } .tick { text-anchor: middle; fill: #666; } .label { font-weight: 600; }
.slot { fill: #555; font-size: 10px; } .band { fill: #222; font-size: 10px; pointer-events: none; }
.grid { stroke: #eee; } .lane { fill: #f6f6f6; } .twice { fill: none; stroke: #d62728; stroke-width: 1.5; }
.anomaly { fill: rgba(214,39,40,.3); stroke: #d62728; }
</style></head><body>
<h1>${escape(info.title)}</h1>
${info.summary.map((line) => `<p class="summary">${escape(line)}</p>`).join('\n')}
<p class="legend">${legend}</p>
<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">
${parts.join('\n')}
</svg>
<h2>Anomalies</h2>${anomalies}
<h2>Faults</h2>${faultList}
</body></html>
`
}

function describeAnomaly(anomaly: Anomaly): string {
  return `${anomaly.kind}${anomaly.slot === undefined ? '' : ` ${anomaly.slot}`} on [${anomaly.hosts.join(' ')}] ${seconds(anomaly.fromMs)} – ${seconds(anomaly.toMs)}${anomaly.detail === undefined ? '' : `: ${anomaly.detail}`}`
}
