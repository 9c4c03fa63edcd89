// The agent gives back the young generation V8 grew while it started (node/agent/young-generation.ts):
// in a fresh process whose start-up grew the new space to its maximum, the looks shrink it once the
// process is idle, leave it while the process is busy, and stop when told.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const test = suite('young generation')

/** Runs `body` (module code) in a fresh node process and returns what it printed, parsed. */
function inFreshProcess(body: string): Record<string, number> {
  const script = [
    "import { newSpaceBytes, trimYoungGeneration } from './node/agent/young-generation.ts'",
    'const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))',
    // Allocation where much survives each scavenge, as module loading does: V8 grows the new space.
    'let kept = []',
    'for (let round = 0; round < 300; round++) { kept.push(Array.from({ length: 20_000 }, (_, i) => ({ i }))); if (kept.length > 20) kept.shift() }',
    'kept = []',
    body,
  ].join('\n')
  // V8's own full collections are switched off — the memory reducer's, and incremental marking begun
  // by the set-up's allocation and finished whenever the process next yields — so every one counted
  // is the trim's: with them on, the busy process saw one in about six runs, made by V8, not the trim.
  const run = spawnSync(process.execPath, ['--no-memory-reducer', '--no-incremental-marking', '--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 30_000 })
  assert.is(run.status, 0, run.stderr)
  return JSON.parse(run.stdout) as Record<string, number>
}

const MiB = 2 ** 20

test('an idle process gets its grown new space back', () => {
  const figures = inFreshProcess([
    'const grown = newSpaceBytes()',
    // V8 judges allocation by its last few seconds: a collection shrinks the new space only once the
    // process has been idle that long, so the checks run for longer than that.
    'const stop = trimYoungGeneration({ checkEveryMs: 250, trimAboveBytes: 4 * 2 ** 20, maxBackoffChecks: 1, idleCpuFraction: 0.5 })',
    'await sleep(8_000)',
    'stop()',
    'console.log(JSON.stringify({ grown, after: newSpaceBytes() }))',
  ].join('\n'))
  assert.ok(figures.grown! > 8 * MiB, `start-up grew the new space to ${figures.grown! / MiB} MiB`)
  assert.ok(figures.after! <= 4 * MiB, `new space still ${figures.after! / MiB} MiB after the checks`)
})

test('stopped before the first check, nothing is collected', () => {
  const figures = inFreshProcess([
    'const grown = newSpaceBytes()',
    'trimYoungGeneration({ checkEveryMs: 500, trimAboveBytes: 4 * 2 ** 20, maxBackoffChecks: 1, idleCpuFraction: 0.5 })()',
    'await sleep(2_000)',
    'console.log(JSON.stringify({ grown, after: newSpaceBytes() }))',
  ].join('\n'))
  assert.is(figures.after, figures.grown)
})

test('a busy process is left alone: no full collection from the looks', () => {
  const figures = inFreshProcess([
    "const { PerformanceObserver, constants } = await import('node:perf_hooks')",
    'let majors = 0',
    // Only collections begun after observe() can be the looks': an entry for one the set-up's
    // allocation made must not count.
    'const since = performance.now()',
    'const observer = new PerformanceObserver((list) => { for (const entry of list.getEntries()) if (entry.detail.kind === constants.NODE_PERFORMANCE_GC_MAJOR && entry.startTime >= since) majors++ })',
    "observer.observe({ entryTypes: ['gc'] })",
    'const stop = trimYoungGeneration({ checkEveryMs: 250, trimAboveBytes: 4 * 2 ** 20, maxBackoffChecks: 1, idleCpuFraction: 0.5 })',
    // Busy: the event loop spins for 3 s without allocating, yielding only to let the looks run.
    'const until = performance.now() + 3_000',
    'while (performance.now() < until) { const end = performance.now() + 50; while (performance.now() < end);  await sleep(1) }',
    'stop()',
    'await sleep(100)',
    'observer.disconnect()',
    'console.log(JSON.stringify({ majors, after: newSpaceBytes() }))',
  ].join('\n'))
  assert.is(figures.majors, 0)
  assert.ok(figures.after! > 8 * MiB, `new space ${figures.after! / MiB} MiB: shrunk while busy`)
})

test.run()
