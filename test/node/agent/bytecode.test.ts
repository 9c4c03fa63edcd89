// The agent keeps its compiled bytecode (node/agent/bytecode.ts): in a fresh process, a function that
// ran once and then sat through collections is discarded without keepBytecode() and kept with it —
// the flag takes effect when set at run time. V8 says what it discards with --trace-flush-bytecode.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const test = suite('bytecode kept')

/** Whether V8 discarded `rarelyRun` in a fresh process that ran it once, then only collected. */
function discardsRarelyRun(keep: boolean): boolean {
  const script = [
    `import { keepBytecode } from '${pathToFileURL(join(REPO, 'node', 'agent', 'bytecode.ts')).href}'`,
    keep ? 'keepBytecode()' : '',
    // A module of its own, run through a loop as an agent runs its handlers: V8 never discarded a
    // function of the script still running, nor one called straight from a module's top level.
    "const handlers = Object.values(await import('data:text/javascript,export function rarelyRun(n) { let sum = 0; for (let i = 0; i < n; i++) sum += i; return sum }'))",
    'for (const handler of handlers) handler(3)',
    // Collections: V8 discards a function's bytecode once it has aged through five natural major
    // collections, which come when they come; --stress-flush-code makes every collection, forced ones
    // included, discard what has not run since the last, so the outcome does not hang on V8's timing.
    'for (let i = 0; i < 10; i++) globalThis.gc()',
  ].join('\n')
  const dir = mkdtempSync(join(tmpdir(), 'peer-bytecode-'))
  try {
    const file = join(dir, 'main.mjs')
    writeFileSync(file, script)
    const run = spawnSync(process.execPath, ['--expose-gc', '--stress-flush-code', '--trace-flush-bytecode', '--import', 'tsx', file], { cwd: REPO, encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 2 ** 20 })
    assert.is(run.status, 0, run.stderr)
    return /discarding compiled metadata for \S+ <SharedFunctionInfo rarelyRun>/.test(run.stdout)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('without it, V8 discards a function that ran once; with it, never', () => {
  // Some runs discard little (about one in four when the test runner starts the process): the
  // control needs one run that discards, the claim holds in every run.
  assert.ok([1, 2, 3, 4].some(() => discardsRarelyRun(false)), 'V8 discarded nothing in four runs: this test would prove nothing')
  for (let run = 0; run < 3; run++) assert.not.ok(discardsRarelyRun(true), 'the bytecode of a function that ran once was discarded')
})

test.run()
