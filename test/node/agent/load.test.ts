// Three real agents under a heavy desired-state load (load-scenario.ts) stay up and agree: the
// regression test for an agent that died of an uncaught WebAssembly RangeError in the pnet cipher
// after a 2,000-service apply and dozens of large changes. Full size, as in the finding: 2,000
// services, 200 applies in a row, then three concurrent appliers of 20 applies each (the benchmark,
// `npm run bench -- agent-load`, runs 50 each).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from '../../cli/run-cli.js'
import { withLogTails } from './cluster-support.js'
import { runLoad, type LoadSizes } from './load-scenario.js'
import { PEER_COMMAND } from '../../peer-command.js'

const CLI = PEER_COMMAND
const SIZES: LoadSizes = { services: 2_000, applies: 200, concurrentApplies: 20 }

const load = suite('agents under desired-state load')

load(`3 agents: ${SIZES.services} services, ${SIZES.applies} applies in a row, 3 × ${SIZES.concurrentApplies} concurrent applies; all stay up and agree`, async () => {
  const base = await mkdtemp(join(tmpdir(), 'pl-'))
  const started = Date.now()
  try {
    const result = await runLoad({ base, sizes: SIZES, command: CLI, log: (line) => console.log(`    ${line}`) })
    assert.is(result.services, SIZES.services)
    assert.match(result.digest, /^[0-9a-f]+$/)
    for (const agent of result.agents) {
      assert.is(agent.connectionFaults, 0, `agent ${agent.index}: connection faults`)
      console.log(`    agent ${agent.index}: peak RSS ${Math.round(agent.peakRssBytes / 2 ** 20)} MiB (VmHWM ${agent.vmHwmBytes === null ? '-' : Math.round(agent.vmHwmBytes / 2 ** 20)} MiB), ${agent.syncFailures} sync failures; saw ${agent.membersNotAlive.join(' ') || 'no peer suspected'}`)
    }
    console.log(`    sequential applies answered in p50 ${result.sequentialApplyMs.p50} ms, max ${result.sequentialApplyMs.max} ms; test took ${Date.now() - started} ms`)
  } catch (error) {
    throw await withLogTails(error, [1, 2, 3].map((index) => join(base, `peer-${index}`, 'agent.log')))
  } finally {
    await rm(base, { recursive: true, force: true })
  }
})

load.run()
