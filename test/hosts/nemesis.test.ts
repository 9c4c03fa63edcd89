// The nemesis in `npm test`: five hosts through a short seeded schedule (a power cut, an agent
// killed, then a full disk under one host's data directory while two other hosts write at once),
// judged by the checker. The seed list is fixed, so a failure here reproduces with
// `npm run nemesis -- --seed <seed> --duration 45s`.
//
// Needs root (network namespaces, iptables): it fails, never skips, without them — CI runs as root.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import type { Anomaly } from './checker.js'
import { saveHistory } from './history.js'
import { runNemesis } from './nemesis.js'

const SEEDS = [29]
const DURATION_MS = 45_000

const describe = (anomaly: Anomaly): string => `${anomaly.kind} ${anomaly.slot ?? ''} on [${anomaly.hosts.join(' ')}] ${anomaly.fromMs}–${anomaly.toMs} ms${anomaly.detail === undefined ? '' : `: ${anomaly.detail}`}`

const nemesis = suite('hosts: nemesis')

for (const seed of SEEDS) {
  nemesis(`seed ${seed}: through a power cut, a kill, a full disk and concurrent writes nothing is lost, nothing undesired runs, no host is over-committed and every write reaches every agent`, async () => {
    const run = await runNemesis({ hosts: 5, durationMs: DURATION_MS, seed, log: (line) => console.log(`    ${line}`) })
    const { figures, verdict } = run
    const keep = process.env.PEER_HOSTS_HISTORY
    if (keep !== undefined) console.log(`    history: ${saveHistory(keep, `nemesis-seed${seed}`, run.history, verdict)}`)
    console.log(`    took ${run.wallMs} ms; failover ${figures.failoverMs.join(', ')} ms; ${figures.duplicateIntervals} brief doubles; moves ${figures.moves} (${figures.spuriousMoves} spurious); converged ${figures.convergeMs} ms after heal; load ${run.loadAverage.after.join(' ')}`)
    for (const anomaly of verdict.anomalies) console.log(`      anomaly: ${describe(anomaly)}`)

    assert.is(figures.crashes, 0, `agents died by themselves: ${JSON.stringify(run.agentExits)}`)
    assert.equal(figures.writes.failed, 0, 'every write answered')
    assert.equal(verdict.anomalies.map(describe), [], 'nothing lost or never placed, nothing doubled beyond its budget, nothing undesired, no over-commit, every acknowledged write on every agent')
    assert.ok(verdict.failoverMs.length > 0 && verdict.failoverMs.every((ms) => ms <= 5_000), `failover within 5 s: ${verdict.failoverMs.join(', ')} ms`)
  })
}

nemesis.run()
