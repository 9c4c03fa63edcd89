// The run report: one self-contained HTML file with inline SVG charts, no scripts, no external
// styles or fonts, so it opens anywhere (a CI artifact, a laptop offline) and can be mailed around.
// Input is plain data; the same data always renders the same bytes.

import { cardLabel } from './report-labels.js'

export interface ReportSeries {
  readonly name: string
  readonly unit: string
  /** [simulated time ms, value] in time order. */
  readonly points: readonly (readonly [number, number])[]
  /** Series with the same group share one chart; by default each series has its own. */
  readonly group?: string
}

export interface ReportViolation {
  readonly invariant: string
  readonly atMs: number
  readonly detail: string
}

export interface ReportData {
  readonly title: string
  readonly seed: number | string
  readonly summary: Readonly<Record<string, number | string>>
  /** Placement latency samples (ms). Ignored when `placementLatencyCdf` is given. */
  readonly placementLatencyMs: readonly number[]
  /** A precomputed CDF as [latency ms, fraction] (e.g. `Histogram.cdf()`), for runs too big to keep samples. */
  readonly placementLatencyCdf?: readonly (readonly [number, number])[]
  readonly series: readonly ReportSeries[]
  readonly violations: readonly ReportViolation[]
  /** The command that reproduces this run, e.g. `peer sim --seed=42 --peers=1000`. */
  readonly reproduce: string
  /** End of the safety phase; time charts shade [0, safetyEndMs] as the period with faults. */
  readonly safetyEndMs?: number
  /** Moments worth seeing on time charts (faults); each is a tick with a hover label. */
  readonly markers?: readonly { readonly atMs: number; readonly label: string }[]
  /** Draw the placement latency chart (default true); a capacity study has no latencies. */
  readonly latency?: boolean
  /** Charts over something other than time (fleet size, say), drawn after the time charts. */
  readonly charts?: readonly ReportChart[]
  /** The status badge's text when there are no invariants to speak of (a capacity study's answer). */
  readonly verdict?: { readonly text: string; readonly pass: boolean }
}

/** A line chart over any x axis (one line per series, points as [x, y]), or grouped bars over categories. */
export type ReportChart = LineChart | BarChart

export interface LineChart {
  readonly kind?: 'lines'
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
  readonly lines: readonly { readonly name: string; readonly points: readonly (readonly [number, number])[] }[]
  readonly yMin?: number
  readonly yMax?: number
}

/** One group of bars per category (a resource), one bar per series (a strategy) in each. */
export interface BarChart {
  readonly kind: 'bars'
  readonly title: string
  readonly yLabel: string
  readonly categories: readonly string[]
  readonly series: readonly { readonly name: string; readonly values: readonly number[] }[]
  readonly yMax?: number
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777']
const MAX_VIOLATION_ROWS = 200
/** More points than this are thinned (keeping each bucket's extremes) before drawing. */
const MAX_POINTS_PER_LINE = 1200

export function renderHtmlReport(data: ReportData): string {
  const passed = data.verdict?.pass ?? data.violations.length === 0
  const status = data.verdict?.text ?? (passed ? 'all invariants held' : `${data.violations.length} invariant violation${data.violations.length === 1 ? '' : 's'}`)
  const charts = [...(data.latency === false ? [] : [latencyChart(data)]), ...seriesCharts(data), ...(data.charts ?? []).map(xyChart)]
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
  <div>
    <h1>${escapeHtml(data.title)}</h1>
    <p class="sub">seed <code>${escapeHtml(String(data.seed))}</code> · reproduce with <code>${escapeHtml(data.reproduce)}</code></p>
  </div>
  <div class="status ${passed ? 'pass' : 'fail'}">${escapeHtml(status)}</div>
</header>
<section class="cards">
${Object.entries(data.summary).map(([key, value]) => summaryCard(key, value)).join('\n')}
</section>
<section class="charts">
${charts.join('\n')}
</section>
${data.verdict === undefined ? violationsSection(data) : ''}
<footer>peer sim · simulated time · same seed, same report</footer>
</body>
</html>
`
}

// --- sections ---

function summaryCard(key: string, value: number | string): string {
  // Numbers are read at a glance; text (a fault spec, a profile name) is read as text.
  const { label, unit, percent, negative } = cardLabel(key)
  let body: string
  if (typeof value !== 'number') body = `<div class="value text">${escapeHtml(value)}</div>`
  else if (value < 0 && negative !== undefined) body = `<div class="value text">${escapeHtml(negative)}</div>`
  else if (percent) body = `<div class="value">${escapeHtml(formatNumber(Math.round(value * 1000) / 10))}<span class="unit"> %</span></div>`
  else body = `<div class="value">${escapeHtml(formatNumber(value))}${unit !== undefined ? `<span class="unit"> ${escapeHtml(unit)}</span>` : ''}</div>`
  return `  <div class="card"><div class="label">${escapeHtml(label)}</div>${body}</div>`
}

function xyChart(chart: ReportChart): string {
  if (chart.kind === 'bars') {
    const colored = chart.series.map((series, i) => ({ ...series, color: PALETTE[i % PALETTE.length]! }))
    return figure(chart.title, barChart(chart, colored), colored.length > 1 ? legend(colored) : '')
  }
  const lines = chart.lines.map((line, i) => ({ name: line.name, points: line.points, color: PALETTE[i % PALETTE.length]! }))
  const svg = lineChart({
    lines, xLabel: chart.xLabel, yLabel: chart.yLabel, dots: true,
    ...(chart.yMin !== undefined ? { yMin: chart.yMin } : {}), ...(chart.yMax !== undefined ? { yMax: chart.yMax } : {}),
  })
  return figure(chart.title, svg, lines.length > 1 ? legend(lines) : '')
}

function latencyChart(data: ReportData): string {
  const cdf = data.placementLatencyCdf !== undefined ? data.placementLatencyCdf.map(([x, y]) => [x, y * 100] as const) : cdfOfSamples(data.placementLatencyMs)
  if (cdf.length === 0) return figure('Placement latency', '<p class="empty">no placements recorded</p>')
  const xs = cdf.map(([x]) => x)
  const positive = xs.filter((x) => x > 0)
  const low = positive.length > 0 ? extent(positive).min : 0
  const high = extent(xs).max
  const logScale = low > 0 && high / low >= 50
  const quantile = (q: number) => cdf.find(([, y]) => y >= q)?.[0] ?? high
  const guides = [
    { value: 50, label: `p50 ${formatNumber(quantile(50))} ms` },
    { value: 99, label: `p99 ${formatNumber(quantile(99))} ms` },
  ]
  const svg = lineChart({
    lines: [{ name: 'placements', points: logScale ? cdf.filter(([x]) => x > 0) : cdf, color: PALETTE[0]! }],
    xLabel: 'time from slot created to task running (ms)', yLabel: '% of placements at or below', xLog: logScale,
    yMin: 0, yMax: 100, step: true, horizontalGuides: guides,
  })
  return figure('Placement latency (CDF)', svg)
}

function seriesCharts(data: ReportData): string[] {
  const groups = new Map<string, ReportSeries[]>()
  for (const series of data.series) {
    const key = series.group ?? series.name
    const list = groups.get(key) ?? []
    list.push(series)
    groups.set(key, list)
  }
  let lastMs = data.safetyEndMs ?? 0
  for (const series of data.series) for (const [t] of series.points) if (t > lastMs) lastMs = t
  const inSeconds = lastMs >= 5000
  const timeScale = inSeconds ? 1 / 1000 : 1
  return [...groups.entries()].map(([title, members]) => {
    const units = [...new Set(members.map((s) => s.unit))]
    const svg = lineChart({
      lines: members.map((s, i) => ({ name: s.name, points: s.points.map(([t, v]) => [t * timeScale, v] as const), color: PALETTE[i % PALETTE.length]! })),
      xLabel: `simulated time (${inSeconds ? 's' : 'ms'})`,
      yLabel: units.join(', '),
      yMin: 0,
      band: data.safetyEndMs !== undefined ? { from: 0, to: data.safetyEndMs * timeScale, label: 'faults' } : undefined,
      markers: data.markers?.map((m) => ({ at: m.atMs * timeScale, label: m.label })),
    })
    return figure(title, svg, members.length > 1 ? legend(members.map((s, i) => ({ name: s.name, color: PALETTE[i % PALETTE.length]! }))) : '')
  })
}

function violationsSection(data: ReportData): string {
  if (data.violations.length === 0) {
    return `<section class="violations"><h2>Invariants</h2><p class="ok">No invariant was violated.</p></section>`
  }
  const shown = data.violations.slice(0, MAX_VIOLATION_ROWS)
  const rows = shown.map((v) => `<tr><td class="num">${escapeHtml(formatNumber(v.atMs))}</td><td><code>${escapeHtml(v.invariant)}</code></td><td>${escapeHtml(v.detail)}</td></tr>`).join('\n')
  const more = data.violations.length - shown.length
  return `<section class="violations">
<h2>Invariant violations</h2>
<p class="repro">reproduce with <code>${escapeHtml(data.reproduce)}</code></p>
<table><thead><tr><th>at (ms)</th><th>invariant</th><th>detail</th></tr></thead><tbody>
${rows}
</tbody></table>
${more > 0 ? `<p class="more">… and ${more} more</p>` : ''}
</section>`
}

function figure(title: string, body: string, after = ''): string {
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>${body}${after}</figure>`
}

function legend(items: { name: string; color: string }[]): string {
  return `<div class="legend">${items.map((item) => `<span><i style="background:${item.color}"></i>${escapeHtml(item.name)}</span>`).join('')}</div>`
}

/** CDF of samples as [value, percent at or below], at most ~400 points. */
function cdfOfSamples(samples: readonly number[]): [number, number][] {
  const sorted = Float64Array.from(samples.filter((x) => Number.isFinite(x))).sort()
  const n = sorted.length
  if (n === 0) return []
  const steps = Math.min(n, 400)
  const out: [number, number][] = []
  for (let i = 1; i <= steps; i++) {
    const rank = Math.ceil((i * n) / steps)
    out.push([sorted[rank - 1]!, (rank / n) * 100])
  }
  return out
}

// --- one SVG line chart ---

interface Line {
  readonly name: string
  readonly points: readonly (readonly [number, number])[]
  readonly color: string
}

interface ChartOptions {
  readonly lines: readonly Line[]
  readonly xLabel: string
  readonly yLabel: string
  readonly xLog?: boolean
  readonly yMin?: number
  readonly yMax?: number
  /** Draw as a step function (a CDF), not straight segments. */
  readonly step?: boolean
  /** Mark each point with a dot (few points, each one a measurement). */
  readonly dots?: boolean
  readonly horizontalGuides?: readonly { value: number; label: string }[]
  readonly band?: { from: number; to: number; label: string } | undefined
  readonly markers?: readonly { at: number; label: string }[] | undefined
}

const WIDTH = 560
const HEIGHT = 300
const MARGIN = { left: 62, right: 18, top: 16, bottom: 44 }

function lineChart(options: ChartOptions): string {
  const lines = options.lines.map((line) => ({ ...line, points: thin(line.points) }))
  const all = lines.flatMap((line) => line.points)
  if (all.length === 0) return '<p class="empty">no data</p>'
  const xs = all.map(([x]) => x)
  const ys = all.map(([, y]) => y)
  const xRange = extent(xs)
  const yRange = extent(ys)
  let xMin = xRange.min
  let xMax = xRange.max
  if (options.band !== undefined && !options.xLog) xMax = Math.max(xMax, options.band.to)
  let yMin = Math.min(options.yMin ?? yRange.min, yRange.min)
  let yMax = options.yMax ?? yRange.max
  if (xMax === xMin) xMax = xMin + 1
  if (yMax === yMin) yMax = yMin + 1

  const xTicks = options.xLog ? logTicks(xMin, xMax) : niceTicks(xMin, xMax)
  const yTicks = niceTicks(yMin, yMax)
  if (!options.xLog) {
    xMin = Math.min(xMin, xTicks[0]!)
    xMax = Math.max(xMax, xTicks[xTicks.length - 1]!)
  } else {
    xMin = Math.min(xMin, xTicks[0]!)
    xMax = Math.max(xMax, xTicks[xTicks.length - 1]!)
  }
  if (options.yMax === undefined) yMax = Math.max(yMax, yTicks[yTicks.length - 1]!)
  yMin = Math.min(yMin, yTicks[0]!)

  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const tx = (x: number) => options.xLog ? Math.log10(x / xMin) / Math.log10(xMax / xMin) : (x - xMin) / (xMax - xMin)
  const px = (x: number) => fixed(MARGIN.left + tx(x) * plotW)
  const py = (y: number) => fixed(MARGIN.top + (1 - (y - yMin) / (yMax - yMin)) * plotH)
  const parts: string[] = []

  if (options.band !== undefined && options.band.to > xMin) {
    const from = Math.max(xMin, options.band.from)
    const to = Math.min(xMax, options.band.to)
    parts.push(`<rect class="band" x="${px(from)}" y="${MARGIN.top}" width="${fixed(px(to) - px(from))}" height="${plotH}"/>`)
    parts.push(`<text class="band-label" x="${fixed(px(from) + 4)}" y="${MARGIN.top + 12}">${escapeHtml(options.band.label)}</text>`)
  }
  for (const y of yTicks) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py(y)}" y2="${py(y)}"/>`)
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${fixed(py(y) + 4)}" text-anchor="end">${formatNumber(y)}</text>`)
  }
  for (const x of xTicks) {
    parts.push(`<line class="grid" x1="${px(x)}" x2="${px(x)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}"/>`)
    parts.push(`<text class="tick" x="${px(x)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${formatNumber(x)}</text>`)
  }
  parts.push(`<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/>`)
  for (const guide of options.horizontalGuides ?? []) {
    parts.push(`<line class="guide" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py(guide.value)}" y2="${py(guide.value)}"/>`)
    parts.push(`<text class="guide-label" x="${WIDTH - MARGIN.right - 6}" y="${fixed(py(guide.value) - 5)}" text-anchor="end">${escapeHtml(guide.label)}</text>`)
  }
  for (const marker of options.markers ?? []) {
    if (marker.at < xMin || marker.at > xMax) continue
    parts.push(`<line class="marker" x1="${px(marker.at)}" x2="${px(marker.at)}" y1="${MARGIN.top}" y2="${MARGIN.top + 8}"><title>${escapeHtml(marker.label)}</title></line>`)
  }
  for (const line of lines) {
    const path = line.points.map(([x, y], i) => {
      const command = i === 0 ? 'M' : 'L'
      if (options.step && i > 0) return `H${px(x)}V${py(y)}`
      return `${command}${px(x)},${py(y)}`
    }).join('')
    parts.push(`<path class="line" d="${path}" stroke="${line.color}"><title>${escapeHtml(line.name)}</title></path>`)
    if (options.dots) {
      for (const [x, y] of line.points) {
        parts.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3" fill="${line.color}"><title>${escapeHtml(`${line.name}: ${formatNumber(x)}, ${formatNumber(y)}`)}</title></circle>`)
      }
    }
  }
  parts.push(`<text class="axis" x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`)
  parts.push(`<text class="axis" transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`)
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">${parts.join('')}</svg>`
}

function barChart(chart: BarChart, series: readonly { name: string; values: readonly number[]; color: string }[]): string {
  const values = series.flatMap((s) => s.values).filter((v) => Number.isFinite(v))
  if (chart.categories.length === 0 || values.length === 0) return '<p class="empty">no data</p>'
  const yTicks = niceTicks(0, chart.yMax ?? Math.max(...values, 0))
  const yMax = Math.max(chart.yMax ?? 0, yTicks[yTicks.length - 1]!, 1e-9)
  const plotW = WIDTH - MARGIN.left - MARGIN.right
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom
  const py = (y: number) => fixed(MARGIN.top + (1 - y / yMax) * plotH)
  const groupW = plotW / chart.categories.length
  const barW = (groupW * 0.7) / Math.max(1, series.length)
  const parts: string[] = []
  for (const y of yTicks) {
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${py(y)}" y2="${py(y)}"/>`)
    parts.push(`<text class="tick" x="${MARGIN.left - 6}" y="${fixed(py(y) + 4)}" text-anchor="end">${formatNumber(y)}</text>`)
  }
  chart.categories.forEach((category, c) => {
    const left = MARGIN.left + c * groupW + groupW * 0.15
    series.forEach((s, i) => {
      const value = Math.max(0, s.values[c] ?? 0)
      const x = fixed(left + i * barW)
      parts.push(`<rect x="${x}" y="${py(value)}" width="${fixed(barW - 2)}" height="${fixed(py(0) - py(value))}" fill="${s.color}"><title>${escapeHtml(`${s.name}, ${category}: ${formatNumber(value)}`)}</title></rect>`)
    })
    parts.push(`<text class="tick" x="${fixed(MARGIN.left + (c + 0.5) * groupW)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeHtml(category)}</text>`)
  })
  parts.push(`<rect class="frame" x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}"/>`)
  parts.push(`<text class="axis" transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(chart.yLabel)}</text>`)
  return `<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img">${parts.join('')}</svg>`
}

/** Keeps at most ~MAX_POINTS_PER_LINE points: per bucket the first, lowest and highest, in order. */
function thin(points: readonly (readonly [number, number])[]): (readonly [number, number])[] {
  const clean = points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  if (clean.length <= MAX_POINTS_PER_LINE) return clean
  const buckets = Math.floor(MAX_POINTS_PER_LINE / 3)
  const size = clean.length / buckets
  const out: (readonly [number, number])[] = []
  for (let b = 0; b < buckets; b++) {
    const slice = clean.slice(Math.floor(b * size), Math.floor((b + 1) * size))
    if (slice.length === 0) continue
    let lowest = slice[0]!
    let highest = slice[0]!
    for (const point of slice) {
      if (point[1] < lowest[1]) lowest = point
      if (point[1] > highest[1]) highest = point
    }
    const keep = new Set([slice[0]!, lowest, highest])
    for (const point of slice) if (keep.has(point)) out.push(point)
  }
  out.push(clean[clean.length - 1]!)
  return out
}

/** Smallest and largest value, without spreading (a spread of 100k+ arguments overflows the stack). */
function extent(values: readonly number[]): { min: number; max: number } {
  let min = Infinity
  let max = -Infinity
  for (const value of values) {
    if (value < min) min = value
    if (value > max) max = value
  }
  return { min, max }
}

/** About five round ticks (1, 2 or 5 × 10^k apart) covering [low, high]. */
export function niceTicks(low: number, high: number, count = 5): number[] {
  const span = high - low
  if (!(span > 0)) return [low]
  const raw = span / count
  const power = Math.pow(10, Math.floor(Math.log10(raw)))
  const fraction = raw / power
  const step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power
  const first = Math.floor(low / step) * step
  const ticks: number[] = []
  for (let value = first; value <= high + step * 0.5 && ticks.length < 50; value += step) ticks.push(Number(value.toPrecision(12)))
  if (ticks[ticks.length - 1]! < high) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)))
  return ticks
}

/** Powers of ten covering [low, high], with 2 and 5 in between when there are few decades. */
function logTicks(low: number, high: number): number[] {
  const first = Math.floor(Math.log10(low))
  const last = Math.ceil(Math.log10(high))
  const ticks: number[] = []
  for (let e = first; e <= last; e++) {
    const base = Math.pow(10, e)
    ticks.push(Number(base.toPrecision(12)))
    if (last - first <= 3 && e < last) ticks.push(Number((2 * base).toPrecision(12)), Number((5 * base).toPrecision(12)))
  }
  return ticks
}

/** Deterministic number text: grouped thousands, at most three significant decimals, no locale. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value)
  const abs = Math.abs(value)
  let text: string
  if (abs >= 1e15) text = value.toExponential(2)
  else if (Number.isInteger(value) || abs >= 1000) text = groupThousands(Math.round(value).toString())
  else if (abs >= 1) text = trimZeros(value.toFixed(abs >= 100 ? 1 : abs >= 10 ? 2 : 3))
  else if (abs === 0) text = '0'
  else text = trimZeros(value.toPrecision(3))
  return text
}

function groupThousands(digits: string): string {
  const negative = digits.startsWith('-')
  const body = negative ? digits.slice(1) : digits
  const grouped = body.replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009')
  return negative ? `−${grouped}` : grouped
}

function trimZeros(text: string): string {
  return text.includes('.') && !text.includes('e') ? text.replace(/\.?0+$/, '') : text
}

function fixed(value: number): number {
  return Math.round(value * 10) / 10
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

const STYLE = `
:root { color-scheme: light; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb; --bg: #f8fafc; }
* { box-sizing: border-box; }
body { margin: 0; padding: 28px 32px 40px; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; justify-content: space-between; align-items: flex-start; gap: 24px; margin-bottom: 20px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 0 0 10px; }
.sub { margin: 0; color: var(--muted); }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef2f7; padding: 1px 5px; border-radius: 4px; }
.status { padding: 8px 14px; border-radius: 999px; font-weight: 600; white-space: nowrap; }
.status.pass { background: #dcfce7; color: #166534; }
.status.fail { background: #fee2e2; color: #991b1b; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin-bottom: 20px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
.card .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.card .value .unit { font-size: 13px; font-weight: 400; color: var(--muted); }
.card .value.text { font: 500 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding-top: 5px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px; margin-bottom: 20px; }
figure { margin: 0; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px 8px; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { width: 100%; height: auto; display: block; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.grid { stroke: var(--line); stroke-width: 1; }
.frame { fill: none; stroke: #cbd5e1; }
.tick { fill: var(--muted); font-size: 11px; }
.axis { fill: #374151; font-size: 12px; }
.line { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.band { fill: #fef2f2; }
.band-label { fill: #b91c1c; font-size: 11px; }
.guide { stroke: #94a3b8; stroke-dasharray: 4 3; }
.guide-label { fill: #475569; font-size: 11px; }
.marker { stroke: #b91c1c; stroke-width: 2; }
.legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: #374151; padding: 4px 0 2px; }
.legend i { display: inline-block; width: 12px; height: 3px; border-radius: 2px; margin-right: 5px; vertical-align: middle; }
.empty { color: var(--muted); padding: 40px 0; text-align: center; }
.violations { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.ok { color: #166534; margin: 0; }
.repro { margin: 0 0 10px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-top: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.more { color: var(--muted); }
footer { margin-top: 24px; color: var(--muted); font-size: 12px; }
`
