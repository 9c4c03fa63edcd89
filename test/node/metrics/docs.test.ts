// docs/monitoring.md and the agent's metrics cannot drift apart: the text an agent's registry serves
// is parsed by a real Prometheus parser, and its metric names and types must be exactly those of the
// tables in the doc. (The cluster test scrapes the same registry over HTTP from real agents.)

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { AgentMetrics } from '../../../node/metrics/index.js'
import { repoRoot } from '../../cli/run-cli.js'
import { parseFamilies } from './prometheus-text.js'

const docs = suite('docs/monitoring.md')

/** `| \`name\` | type | labels | meaning |` rows of the doc's metric tables. */
function documented(): Map<string, string> {
  const text = readFileSync(join(repoRoot, 'docs', 'monitoring.md'), 'utf8')
  const rows = new Map<string, string>()
  for (const match of text.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary) \|/gm)) {
    assert.not.ok(rows.has(match[1]!), `${match[1]} is listed twice`)
    rows.set(match[1]!, match[2]!)
  }
  return rows
}

docs('lists every metric the agent serves, with its type, and no other', async () => {
  const metrics = new AgentMetrics()
  try {
    const families = parseFamilies(await metrics.render())
    const served = new Map([...families.values()].map((family) => [family.name, family.type.toLowerCase()]))
    const listed = documented()
    assert.ok(served.size > 40, `the parser read ${served.size} families`)
    const undocumented = [...served.keys()].filter((name) => !listed.has(name))
    const notServed = [...listed.keys()].filter((name) => !served.has(name))
    const wrongType = [...served].filter(([name, type]) => listed.has(name) && listed.get(name) !== type).map(([name, type]) => `${name}: served ${type}, documented ${listed.get(name)}`)
    assert.equal(undocumented, [], 'served but not in docs/monitoring.md')
    assert.equal(notServed, [], 'in docs/monitoring.md but not served')
    assert.equal(wrongType, [])
  } finally {
    await metrics.close()
  }
})

docs('peer_ metrics name their unit and counters end in _total', async () => {
  const metrics = new AgentMetrics()
  try {
    for (const family of parseFamilies(await metrics.render()).values()) {
      if (!family.name.startsWith('peer_')) continue
      if (family.type === 'COUNTER') assert.ok(family.name.endsWith('_total'), family.name)
      if (family.type === 'HISTOGRAM') assert.ok(family.name.endsWith('_seconds'), family.name)
      assert.ok(family.help.length > 10, `${family.name} has help text`)
    }
  } finally {
    await metrics.close()
  }
})

docs('the Grafana dashboard is JSON whose queries name only served metrics', async () => {
  const dashboard = JSON.parse(readFileSync(join(repoRoot, 'examples', 'grafana-peer-fleet.json'), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> }
  const metrics = new AgentMetrics()
  try {
    const served = new Set(parseFamilies(await metrics.render()).keys())
    const named = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => [...target.expr.matchAll(/\b((?:peer|process|nodejs)_[a-z0-9_]+?)(?:_bucket)?\{/g)].map((m) => m[1]!)))
    assert.ok(named.length >= 10)
    assert.equal(named.filter((name) => !served.has(name)), [])
  } finally {
    await metrics.close()
  }
})

docs.run()
