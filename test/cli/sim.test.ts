// `peer sim` as a user runs it: exit codes, reproducible JSON, the report file, and clear errors.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readFileSync } from 'node:fs'
import { concurrencyLimit, runCli, suiteFolder } from './run-cli.js'

const simCli = suite('peer sim')
const { path, write } = suiteFolder(simCli, 'peer-sim-')

const ARGS = ['sim', '-f', 'examples/hello.yaml', '--peers', '12', '--duration', '20s', '--faults', 'kill=2,loss=0.02']

simCli('the same seed prints byte-identical --json, with flat keys and no violations', async () => {
  const [a, b] = await Promise.all([runCli([...ARGS, '--seed', '9', '--json']), runCli([...ARGS, '--seed', '9', '--json'])])
  assert.is(a.code, 0, a.stderr)
  assert.is(a.stdout, b.stdout)
  const json = JSON.parse(a.stdout) as Record<string, unknown>
  for (const key of ['placementMsP50', 'placementMsP99', 'failoverMsP50', 'failoverMsP99', 'convergeMs', 'msgsPerPeerPerSec', 'bytesPerPeerPerSec', 'violations']) {
    assert.ok(key in json, `missing ${key}`)
  }
  assert.equal(json.violations, [])
  assert.is(json.faults, 'kill=2,loss=0.02')
})

simCli('a text run summarises placement, failover and invariants, and writes an HTML report', async () => {
  const report = path('report.html')
  const result = await runCli([...ARGS, '--seed', '4', '--report', report])
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /placement \(apply → running\)/)
  assert.match(result.stdout, /invariants: all held/)
  assert.match(result.stderr, /simulated 20s in/)
  assert.ok(existsSync(report))
  const html = readFileSync(report, 'utf8')
  assert.match(html, /<svg/)
  assert.not.match(html, /https?:\/\//)
})

simCli('a synthetic workload with --swarm runs without a spec file', async () => {
  const result = await runCli(['sim', '--replicas', '40', '--peers', '10', '--duration', '15s', '--swarm', '--seed', '2', '--json'])
  assert.is(result.code, 0, result.stderr)
  const json = JSON.parse(result.stdout) as { replicas: number; faults: string }
  assert.is(json.replicas, 40)
  assert.type(json.faults, 'string')
})

simCli('a CSV trace drives the workload: services come and go at their times', async () => {
  const result = await runCli(['sim', '--trace', 'examples/trace.csv', '--peers', '15', '--duration', '70s', '--seed', '3', '--json'])
  assert.is(result.code, 0, result.stderr)
  const json = JSON.parse(result.stdout) as { replicas: number; services: number; violations: unknown[] }
  assert.is(json.replicas, 60)
  assert.ok(json.services < 60, 'deleted trace tasks are gone at the end')
  assert.equal(json.violations, [])
})

simCli('a malformed trace names the file, line and column, and exits 2', async () => {
  const trace = write('bad.csv', 'name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time\nx,abc,1,0,1,\n')
  const result = await runCli(['sim', '--trace', trace])
  assert.is(result.code, 2)
  assert.match(result.stderr, `${trace}:2:cpu_milli: `)
})

simCli('--constraint and --strategy reach every row of a trace in a simulated run', async () => {
  const trace = write('rows.csv', 'name,cpu_milli,memory_mib,creation_time,deletion_time\nr1,100,64,0,\nr2,100,64,0,\n')
  const [pinned, free] = await Promise.all([
    runCli(['sim', '--trace', trace, '--peers', '5', '--profile', 'uniform', '--duration', '8s', '--constraint', 'zone == nowhere', '--strategy', 'binpack', '--json']),
    runCli(['sim', '--trace', trace, '--peers', '5', '--profile', 'uniform', '--duration', '8s', '--strategy', 'binpack', '--json']),
  ])
  assert.is(pinned.code, 0, pinned.stderr)
  const json = JSON.parse(pinned.stdout) as { pendingSlots: number; neverPlacedSlots: number; violations: unknown[] }
  // No peer has that zone: both rows stay pending, which is not a violation.
  assert.equal({ pending: json.pendingSlots, never: json.neverPlacedSlots, violations: json.violations }, { pending: 2, never: 2, violations: [] })
  assert.is(free.code, 0, free.stderr)
  assert.match(free.stdout, /"pendingSlots":0,"neverPlacedSlots":0/)
})

simCli('bad options exit 2 with one line that names the option', async () => {
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['sim', '-f', 'examples/hello.yaml', '--faults', 'kill=lots'], message: /--faults: / },
    { args: ['sim', '-f', 'examples/hello.yaml', '--peers', '0'], message: /--peers: expected a whole number/ },
    { args: ['sim', '-f', 'examples/hello.yaml', '--seed', 'abc'], message: /--seed: expected a whole number/ },
    { args: ['sim', '-f', 'examples/hello.yaml', '--duration', 'forever'], message: /--duration: / },
    { args: ['sim', '--peers', '5'], message: /needs -f <spec file>, --replicas <n> or --trace <file.csv>/ },
    { args: ['sim', '-f', 'examples/hello.yaml', '--replicas', '5'], message: /give one of -f, --replicas and --trace/ },
    { args: ['sim', '-f', 'examples/hello.yaml', '--swarm', '--faults', 'kill=1'], message: /--faults or --swarm, not both/ },
  ]
  // A few processes at a time: a shared machine starting seven at once can take longer than a run's timeout.
  const limit = concurrencyLimit(3)
  const results = await Promise.all(cases.map((c) => limit(() => runCli(c.args))))
  results.forEach((result, i) => {
    assert.is(result.code, 2, cases[i]!.args.join(' '))
    assert.match(result.stderr, cases[i]!.message)
  })
})

simCli.run()
