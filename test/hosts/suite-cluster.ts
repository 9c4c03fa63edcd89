// One cluster for a whole suite of host tests, each test starting from where the last left it: started
// by the first test that asks, not in a `before` hook — uvu 0.5 reports a hook's error nowhere and
// exits 0 with no test run, so a cluster that failed to start would pass. A failing test's error
// carries the tail of every agent's log; at the end the history is kept when PEER_HOSTS_HISTORY names
// a directory, and everything is torn down.

import { withLogTails } from '../node/agent/cluster-support.js'
import { check, type Anomaly } from './checker.js'
import type { Cluster } from './cluster.js'
import { saveHistory } from './history.js'
import { savePostMortem } from './post-mortem.js'

export class SuiteCluster {
  private starting: Promise<Cluster> | undefined
  private cluster: Cluster | undefined

  constructor(
    /** Names the kept history. */
    private readonly name: string,
    private readonly start: () => Promise<Cluster>,
  ) {}

  /** Runs `test` on the cluster (starting it first if no test has). */
  async run(test: (cluster: Cluster) => Promise<void>): Promise<void> {
    const cluster = await (this.starting ??= this.start().then((started) => (this.cluster = started)))
    try {
      await test(cluster)
    } catch (error) {
      throw await withLogTails(error, cluster.hosts.hosts.map((host) => host.log))
    }
  }

  /** The verdict's anomalies that began at or after `fromMs` (the history so far, judged as unsettled). */
  anomaliesSince(fromMs: number): Anomaly[] {
    if (this.cluster === undefined) return []
    return check(this.cluster.recorder.history, { settledAtEnd: false }).anomalies.filter((anomaly) => anomaly.fromMs >= fromMs)
  }

  /**
   * For the suite's `after` hook: keeps the history and what each agent knew (post-mortem.ts) when
   * asked to, then tears everything down.
   */
  async finish(): Promise<void> {
    const keep = process.env.PEER_HOSTS_HISTORY
    try {
      if (keep !== undefined && this.cluster !== undefined) {
        const { recorder, hosts } = this.cluster
        console.log(`    history: ${saveHistory(keep, this.name, recorder.history, check(recorder.history, { settledAtEnd: false }))}; agents: ${await savePostMortem(keep, this.name, hosts)}`)
      }
    } finally {
      this.cluster?.teardown()
    }
  }
}
