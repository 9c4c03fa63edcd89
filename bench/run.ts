// `npm run bench -- <name> [args]`: runs bench/<name>.ts in its own process (so one benchmark's heap
// never skews another's) and passes its JSON lines through. With no name, runs them all.

import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
/** Files here that are not benchmarks: this runner, the peer process dead-peer.ts starts, shared helpers. */
const HELPERS = new Set(['run', 'child-peer', 'proc-sample', 'bench-args', 'http-load', 'built-cli'])
const available = readdirSync(here).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).filter((n) => !HELPERS.has(n)).sort()

const [name, ...args] = process.argv.slice(2)
const chosen = name === undefined ? available : [name]
for (const bench of chosen) {
  if (!available.includes(bench)) {
    console.error(`unknown benchmark ${JSON.stringify(bench)}; available: ${available.join(', ')}`)
    process.exit(2)
  }
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${bench}.ts`), ...args], { stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
}
