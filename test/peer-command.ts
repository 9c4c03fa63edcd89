// The `peer` command that tests start, as users run it: the built bin (`dist/bin/main.js`, what
// package.json's `bin` installs: the compiled CLI bundled and minified, scripts/bundle.mjs), not the
// TypeScript sources through tsx. An agent started through
// tsx spends ~3.5 s of CPU compiling the sources before it listens (~0.8 s compiled), and tests start
// hundreds of CLI processes and dozens of agents on two cores.
//
// The bin is rebuilt here, once per test process, whenever it is missing or older than a source
// file (the web view's page files count: npm run build copies them into dist), so a test never runs stale code: the first import after an edit pays one `tsc` (~10 s).

import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The folders tsconfig.json compiles. */
const SOURCE_DIRS = ['core', 'io', 'node', 'crdt', 'p2p', 'cli', 'sim'] as const
const BIN = join(repoRoot, 'dist', 'bin', 'main.js')
/** Written after a build that succeeded: its time is the build's. */
const STAMP = join(repoRoot, 'dist', '.built')

function newestSourceMs(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path))
    else if (/\.(ts|js|css|html)$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs)
  }
  return newest
}

function builtMs(): number {
  return existsSync(STAMP) && existsSync(BIN) ? statSync(STAMP).mtimeMs : -1
}

function ensureBuilt(): void {
  const sourcesMs = Math.max(...SOURCE_DIRS.map((dir) => newestSourceMs(join(repoRoot, dir))), statSync(join(repoRoot, 'tsconfig.json')).mtimeMs)
  if (builtMs() >= sourcesMs) return
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  try {
    execFileSync(process.execPath, [tsc, '-p', join(repoRoot, 'tsconfig.json')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (error) {
    const output = (error as { stdout?: Buffer }).stdout?.toString() ?? ''
    throw new Error(`building the peer bin for the tests failed (npm run build):\n${output}`)
  }
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'copy-web-ui.mjs')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'bundle.mjs')], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  writeFileSync(STAMP, `${new Date().toISOString()}\n`)
}

ensureBuilt()

/**
 * argv that runs `peer`; append the subcommand and its arguments. `--` ends node's own options, as the
 * bin's shebang does: Node 20 otherwise takes a `--env-file` anywhere on the line as its own.
 */
export const PEER_COMMAND: readonly [string, ...string[]] = [process.execPath, '--', BIN]
