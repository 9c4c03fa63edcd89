// The agent keeps its compiled bytecode (node/agent/bytecode.ts): in a fresh process whose functions
// ran and then sat through collections, V8 discards compiled functions without keepBytecode() and
// none with it — the flag takes effect when set at run time. V8 says what it discards with
// --trace-flush-bytecode. Which functions it discards depends on timing (under load, and under the
// test runner, a function that ran once was often not among them), so the control asks only that it
// discards some, and the claim that it discards none.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const test = suite('bytecode kept')

/** How many compiled functions V8 discarded in a fresh process that ran a handler once, then only collected. */
function discarded(keep: boolean): number {
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
    return run.stdout.match(/discarding compiled metadata for /g)?.length ?? 0
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('without it, V8 discards compiled functions that sat idle; with it, none', () => {
  const control = discarded(false)
  assert.ok(control > 0, 'V8 discarded nothing without the flag: this test would prove nothing')
  for (let run = 0; run < 3; run++) assert.is(discarded(true), 0, `V8 discarded compiled functions with the flag set (${control} without it)`)
})

test.run()
