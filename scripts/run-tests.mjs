#!/usr/bin/env node
// The test command (`npm test`): uvu over every `test/**/*.test.ts`, in five lanes, each its own uvu
// process running its files one after another:
//
//   hosts    test/hosts              agents in network namespaces, Docker engines per host
//   agents   test/node/agent         real agents on loopback, driven through the CLI and the control API
//   node     the rest of test/node   the runtime drivers, the control API, discovery, metrics, web view
//   clients  test/cli, test/p2p      CLI commands against real agents, libp2p peers on loopback
//   pure     everything else         the placement core, the CRDT, the simulator: CPU only
//
// Two chains run side by side — hosts alone; agents, node, pure, then clients — each running its
// lanes in turn (the host lane is the longest, ≈ 9 min with the edge tests, so everything else goes
// beside it). Most of a host test is waiting on a fault it holds (a partition for 12 s, a power cut
// watched for 10 s) at about a third of a core, with timing bounds set on a host that is otherwise
// about one CPU-bound lane busy: with two CPU-bound chains beside it (three chains, ≈ 440 s instead
// of ≈ 500 s), a two-tier container failover missed its 3 s bound on a fresh CI machine, so the
// host lane keeps one CPU-bound chain beside it. Within a lane nothing changes from a plain uvu run. Each lane's
// output is printed whole when it ends (interleaved lines from several suites would be unreadable),
// then the totals of all lanes in uvu's own format, which `.ci/run` reads, and the time of every
// file goes to test-output/test-times.json, to balance the chains by.
//
//   npm test                         all chains at once
//   npm test -- --serial             one lane after another (quiet-machine timings, or to debug)
//   npm test -- hosts pure           only these lanes

import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Patterns are uvu's: matched against a test file's path under test/. */
const LANES = [
  { name: 'hosts', pattern: '^hosts/.*\\.test\\.ts$' },
  { name: 'agents', pattern: '^node/agent/.*\\.test\\.ts$' },
  { name: 'node', pattern: '^node/(?!agent/).*\\.test\\.ts$' },
  { name: 'clients', pattern: '^(cli|p2p)/.*\\.test\\.ts$' },
  { name: 'pure', pattern: '^(?!(hosts|node|p2p|cli)/).*\\.test\\.ts$' },
]
/** Lanes run in turn within a chain; chains run side by side. */
const CHAINS = [['hosts'], ['agents', 'node', 'pure', 'clients']]

function parseArgs(argv) {
  const serial = argv.includes('--serial')
  const named = argv.filter((arg) => arg !== '--serial')
  const unknown = named.filter((name) => !LANES.some((lane) => lane.name === name))
  if (unknown.length > 0) {
    console.error(`unknown lane ${unknown.map((name) => `"${name}"`).join(', ')}: lanes are ${LANES.map((lane) => lane.name).join(', ')}`)
    process.exit(2)
  }
  return { serial, lanes: named.length === 0 ? LANES : LANES.filter((lane) => named.includes(lane.name)) }
}

/** Runs one lane's uvu, its output kept for printing whole; resolves with it, its exit code and wall time. */
function runLane(lane) {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'node_modules/uvu/bin.js'), 'test', lane.pattern, '-c', 'false'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const chunks = []
    // uvu prints a file's name on a line of its own as it starts the file: the time between two such
    // lines is the earlier file's, which tells where the suite's time goes.
    const fileStarts = []
    let partial = ''
    child.stdout.on('data', (chunk) => {
      chunks.push(chunk)
      const lines = (partial + chunk.toString('utf8')).split('\n')
      partial = lines.pop()
      for (const line of lines) if (FILE_HEADER.test(line)) fileStarts.push({ file: line, at: Date.now() })
    })
    child.stderr.on('data', (chunk) => chunks.push(chunk))
    child.on('close', (code, signal) => {
      const ended = Date.now()
      const files = fileStarts.map(({ file, at }, i) => ({ file, ms: (fileStarts[i + 1]?.at ?? ended) - at }))
      resolve({ lane, output: Buffer.concat(chunks).toString('utf8'), code: code ?? 1, signal, wallMs: ended - started, files })
    })
  })
}

const FILE_HEADER = /^[\w./-]+\.test\.ts$/
/** How many of the slowest files the summary names. */
const SLOWEST_SHOWN = 8

/** uvu's closing totals, as it prints them. */
function totalsOf(output) {
  const read = (label) => Number(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(output)?.[1] ?? Number.NaN)
  return { total: read('Total'), passed: read('Passed'), skipped: read('Skipped') }
}

/**
 * The compiled bin that tests start is rebuilt when a source is newer (test/peer-command.ts): done
 * once here, before the lanes, so that three lanes never run `tsc` into dist/ at the same time.
 */
function buildBinOnce() {
  const built = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', "await import('./test/peer-command.ts')"], { cwd: ROOT, encoding: 'utf8' })
  if (built.status !== 0) {
    process.stdout.write(`${built.stdout}${built.stderr}\n  Total:     1\n  Passed:    0\n  Skipped:   0\n`)
    process.exit(1)
  }
}

const { serial, lanes } = parseArgs(process.argv.slice(2))
const started = Date.now()
buildBinOnce()
const results = []
const finished = (result) => {
  const { lane, output, code, signal, wallMs } = result
  process.stdout.write(`\n━━ lane ${lane.name} (${lane.pattern}): ${(wallMs / 1000).toFixed(1)} s, exit ${signal ?? code}\n${output}`)
  results.push(result)
}
const chains = serial ? [lanes] : CHAINS.map((names) => lanes.filter((lane) => names.includes(lane.name)))
await Promise.all(chains.map(async (chain) => {
  for (const lane of chain) finished(await runLane(lane))
}))

let total = 0
let passed = 0
let skipped = 0
const broken = []
for (const { lane, output, code, signal } of results) {
  const counts = totalsOf(output)
  // A lane that died before its totals (a crash, a signal) counts as one failure, never as none.
  if (Number.isNaN(counts.total)) {
    broken.push(`${lane.name} ended without totals (exit ${signal ?? code})`)
    total += 1
    continue
  }
  total += counts.total
  passed += counts.passed
  skipped += counts.skipped
  // A lane that failed with every test passed (an error after its totals) counts as one failure too.
  if (code !== 0 && counts.passed + counts.skipped === counts.total) {
    broken.push(`${lane.name} exited ${signal ?? code} with every test passed`)
    total += 1
  }
}
if (broken.length > 0) console.log(`\n${broken.join('\n')}`)
mkdirSync(join(ROOT, 'test-output'), { recursive: true })
writeFileSync(join(ROOT, 'test-output', 'test-times.json'), `${JSON.stringify(Object.fromEntries(results.map(({ lane, wallMs, files }) => [lane.name, { wallMs, files }])), null, 1)}\n`)
const slowest = results.flatMap(({ files }) => files).sort((a, b) => b.ms - a.ms).slice(0, SLOWEST_SHOWN)
console.log(`\n  slowest files: ${slowest.map(({ file, ms }) => `${file} ${(ms / 1000).toFixed(0)} s`).join(', ')}`)
console.log(`  lanes: ${results.map(({ lane, wallMs }) => `${lane.name} ${(wallMs / 1000).toFixed(1)} s`).join(', ')}`)
console.log(`  Total:     ${total}`)
console.log(`  Passed:    ${passed}`)
console.log(`  Skipped:   ${skipped}`)
console.log(`  Duration:  ${Date.now() - started}ms`)
process.exit(passed + skipped === total && results.every(({ code }) => code === 0) ? 0 : 1)
