// The HTML report: one self-contained file (no scripts, no URLs), with SVG charts, the summary, and
// every violation next to the command that reproduces it.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { formatNumber, niceTicks, renderHtmlReport, type ReportData } from '../../sim/report.js'

const base: ReportData = {
  title: 'peer sim — 100 peers',
  seed: 42,
  summary: { peers: 100, replicas: 1000, 'placement p99 (ms)': 12.5, faults: 'kill=1' },
  placementLatencyMs: Array.from({ length: 500 }, (_, i) => 1 + i * 0.37),
  series: [
    { name: 'desired slots running', unit: 'fraction', points: Array.from({ length: 100 }, (_, i) => [i * 100, Math.min(1, i / 50)] as [number, number]) },
    { name: 'cpu', unit: '%', group: 'utilisation', points: [[0, 0], [5000, 40], [10_000, 70]] },
    { name: 'memory', unit: '%', group: 'utilisation', points: [[0, 0], [5000, 30], [10_000, 50]] },
  ],
  violations: [],
  reproduce: 'peer sim --seed=42 --peers=100',
  safetyEndMs: 6000,
  markers: [{ atMs: 2000, label: 'kill peer-3' }],
}

const report = suite('renderHtmlReport')

report('is one self-contained HTML document with inline SVG', () => {
  const html = renderHtmlReport(base)
  assert.ok(html.startsWith('<!DOCTYPE html>'))
  assert.is(html.match(/<html/g)?.length, 1)
  assert.ok(html.trimEnd().endsWith('</html>'))
  assert.is(html.match(/<svg /g)?.length, 3, 'latency CDF, convergence, utilisation')
  assert.not.match(html, /http/i)
  assert.not.match(html, /<script|<link|<img|<iframe|\bsrc=|url\(|@import/i)
})

report('shows the seed, the summary and the reproduce command', () => {
  const html = renderHtmlReport(base)
  assert.match(html, /peer sim --seed=42 --peers=100/)
  assert.match(html, /placement p99 \(ms\)/)
  assert.match(html, /all invariants held/)
  assert.match(html, /No invariant was violated/)
  assert.match(html, /kill peer-3/)
})

report('lists violations with the command that reproduces them', () => {
  const html = renderHtmlReport({ ...base, violations: [
    { invariant: 'slot-runs-once', atMs: 1234.5, detail: 'web/1 on p1 and p2' },
    { invariant: 'never-kill-before-replace', atMs: 99, detail: 'api/0' },
  ] })
  assert.match(html, /2 invariant violations/)
  assert.match(html, /reproduce with <code>peer sim --seed=42 --peers=100<\/code>/)
  assert.match(html, /slot-runs-once/)
  assert.match(html, /web\/1 on p1 and p2/)
})

report('escapes text that comes from the run', () => {
  const html = renderHtmlReport({ ...base, title: '<b>x</b>', violations: [{ invariant: 'a&b', atMs: 1, detail: '<script>alert(1)</script>' }] })
  assert.not.match(html, /<script>/)
  assert.match(html, /&lt;script&gt;/)
  assert.match(html, /&lt;b&gt;x&lt;\/b&gt;/)
  assert.match(html, /a&amp;b/)
})

report('renders the same bytes for the same data', () => {
  assert.is(renderHtmlReport(base), renderHtmlReport(base))
})

report('copes with no placements and no series', () => {
  const html = renderHtmlReport({ ...base, placementLatencyMs: [], series: [] })
  assert.match(html, /no placements recorded/)
  assert.not.match(html, /NaN|Infinity|undefined/)
})

report('thins very long series and uses a precomputed CDF when given', () => {
  const points = Array.from({ length: 300_000 }, (_, i) => [i, Math.sin(i / 1000)] as [number, number])
  const html = renderHtmlReport({ ...base, series: [{ name: 'wave', unit: 'x', points }], placementLatencyMs: [], placementLatencyCdf: [[1, 0.5], [10, 0.99], [100, 1]] })
  assert.ok(html.length < 200_000, `report is ${html.length} characters`)
  assert.match(html, /p50 1 ms/)
  assert.match(html, /p99 10 ms/)
  assert.not.match(html, /NaN/)
})

const numbers = suite('report numbers')

numbers('ticks are round and cover the range', () => {
  assert.equal(niceTicks(0, 100), [0, 20, 40, 60, 80, 100])
  assert.equal(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1])
  assert.equal(niceTicks(3, 47), [0, 10, 20, 30, 40, 50])
  assert.equal(niceTicks(5, 5), [5])
})

numbers('numbers print the same everywhere, without locale', () => {
  const cases: Array<[number, string]> = [
    [0, '0'], [7, '7'], [1234567, '1\u2009234\u2009567'], [-2500, '−2\u2009500'], [12.3456, '12.35'], [1.5, '1.5'],
    [0.000123456, '0.000123'], [250.25, '250.3'], [1e16, '1.00e+16'],
  ]
  for (const [value, text] of cases) assert.is(formatNumber(value), text, String(value))
})

report('cards say what a key means, with its unit; shares read as percentages and -1 as never', () => {
  const html = renderHtmlReport({ ...base, summary: { placementMsP99: 12.5, convergeMs: -1, cpuUtilisation: 0.4567, 'allocation.gpu.peak': 1, 'a label in words': 3 } })
  assert.match(html, /<div class="label">placement p99<\/div><div class="value">12\.5<span class="unit"> ms<\/span>/)
  assert.match(html, /<div class="label">converged after the faults<\/div><div class="value text">never<\/div>/)
  assert.match(html, /<div class="label">cpu allocated at the end<\/div><div class="value">45\.7<span class="unit"> %/)
  assert.match(html, /<div class="label">gpu allocated, peak<\/div><div class="value">100<span class="unit"> %/)
  assert.match(html, /<div class="label">a label in words<\/div>/)
  assert.not.match(html, /placementMsP99|convergeMs/)
})

report('a capacity study draws charts over fleet size, without a latency chart, under its own verdict', () => {
  const html = renderHtmlReport({
    ...base, latency: false, series: [], verdict: { text: 'smallest fleet: 400 peers', pass: true },
    charts: [{ title: 'Replicas placed by fleet size', xLabel: 'peers', yLabel: '%', lines: [{ name: 'no loss', points: [[200, 80], [400, 100]] }, { name: 'after losing zone', points: [[200, 60], [400, 100]] }] }],
  })
  assert.is(html.match(/<svg /g)?.length, 1)
  assert.not.match(html, /Placement latency/)
  assert.match(html, /Replicas placed by fleet size/)
  assert.match(html, /<circle /)
  assert.match(html, /class="status pass">smallest fleet: 400 peers</)
})

report('grouped bars show one bar per series in each category, with its value on hover', () => {
  const html = renderHtmlReport({
    ...base, latency: false, series: [], verdict: { text: 'binpack: 10 services fit', pass: true },
    charts: [{ kind: 'bars', title: 'Allocated share', yLabel: '%', yMax: 100, categories: ['cpu', 'memory', 'gpu'], series: [{ name: 'binpack', values: [90, 40, 100] }, { name: 'spread', values: [80, 35, 75] }] }],
  })
  assert.is(html.match(/<rect x="[^"]+" y="[^"]+" width="[^"]+" height="[^"]+" fill=/g)?.length, 6)
  assert.match(html, /<title>spread, gpu: 75<\/title>/)
  assert.not.match(html, /Invariants/, 'a capacity study has no invariants section')
  assert.not.match(html, /NaN|undefined/)
})

report.run()
