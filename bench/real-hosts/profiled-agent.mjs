// An agent under V8's sampling profiler, for `npm run bench -- real-hosts --profile DIR`: started in
// place of the `peer` bin (the harness's builtCli), it starts the profiler, then runs the bin named by
// PEER_PROFILED_CLI as if it had been started itself. On SIGUSR2 it writes what was sampled since the
// last write to PEER_PROFILE_DIR/<pid>-<n>.cpuprofile (Chrome DevTools' format, plus `startWall`, the
// wall clock of its first sample, and `startHr`, the same instant on the profile's clock, so samples
// can be picked by wall time) and starts again. An agent killed with SIGKILL (a crash measure) leaves
// only what it wrote before. `npm run bench -- agent-profile` reads the files.
//
// Plain JavaScript: node runs it directly, before anything of the agent is loaded.

import { Session } from 'node:inspector'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const cli = process.env.PEER_PROFILED_CLI
const dir = process.env.PEER_PROFILE_DIR
if (cli === undefined || dir === undefined) {
  process.stderr.write('profiled-agent: PEER_PROFILED_CLI and PEER_PROFILE_DIR must be set\n')
  process.exit(2)
}
mkdirSync(dir, { recursive: true })

/** Sampling interval: 1 ms, as in every profile BENCHMARKS.md cites. */
const INTERVAL_US = 1000

const session = new Session()
session.connect()
session.post('Profiler.enable')
session.post('Profiler.setSamplingInterval', { interval: INTERVAL_US })
let startWall = 0
let startHr = 0
let written = 0
const begin = () => {
  startWall = Date.now()
  startHr = Number(process.hrtime.bigint() / 1000n)
  session.post('Profiler.start')
}
begin()
process.on('SIGUSR2', () => {
  session.post('Profiler.stop', (error, result) => {
    if (error === null && result !== undefined) {
      writeFileSync(join(dir, `${process.pid}-${written++}.cpuprofile`), JSON.stringify({ ...result.profile, startWall, startHr }))
    }
    begin()
  })
})

// The bin reads its arguments from process.argv[2…]: the wrapper's own path stands where it would.
process.argv[1] = resolve(cli)
await import(pathToFileURL(resolve(cli)).href)
