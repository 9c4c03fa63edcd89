// `peer sim --fill` and `--sweep` as a user runs them: the answers, byte-identical JSON for a seed,
// the HTML report with its chart, and clear errors (exit 2) for options that do not go together.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { concurrencyLimit, runCli, suiteFolder } from './run-cli.js'

const capacity = suite('peer sim --fill / --sweep')
const { path, write } = suiteFolder(capacity, 'peer-sim-capacity-')

const TRACE_HEADER = 'name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time,strategy,constraints'

/** Two gpu hosts and two cpu hosts, 4 cores and 8 GiB each. */
const INVENTORY = `peers:
  - { name: g1, capacity: { cpu: 4, memory: 8Gi, gpu: 4 }, labels: { zone: a } }
  - { name: g2, capacity: { cpu: 4, memory: 8Gi, gpu: 4 }, labels: { zone: b } }
  - { name: c1, capacity: { cpu: 4, memory: 8Gi }, labels: { zone: a } }
  - { name: c2, capacity: { cpu: 4, memory: 8Gi }, labels: { zone: b } }
`

interface FillJson {
  mode: string
  strategies: Array<{
    strategy: string; arrivals: number; servicesPlaced: number; replicasPlaced: number; stoppedBy: string
    resources: Record<string, { allocatedShare: number; strandedShare: number; stranded: number }>
  }>
}

capacity('--fill places one-gpu tasks until the fleet is full and reports each resource, per strategy', async () => {
  const inventory = write('fleet.yaml', INVENTORY)
  const trace = write('gpu.csv', `${TRACE_HEADER}\ntrain,1000,1024,1,0,,,\n`)
  const report = path('fill.html')
  const result = await runCli(['sim', '--fill', '--trace', trace, '--inventory', inventory, '--seed', '5', '--json', '--report', report])
  assert.is(result.code, 0, result.stderr)
  const html = readFileSync(report, 'utf8')
  assert.match(html, /Stranded share of each resource, per strategy/)
  assert.match(html, /binpack: 8 services fit · spread: 8 services fit/)
  const json = JSON.parse(result.stdout) as FillJson
  assert.is(json.mode, 'fill')
  assert.equal(json.strategies.map((s) => s.strategy), ['binpack', 'spread'])
  for (const s of json.strategies) {
    // 8 gpus: 8 tasks fit; the next 10 arrivals find no room.
    assert.is(s.servicesPlaced, 8, s.strategy)
    assert.is(s.arrivals, 18, s.strategy)
    assert.is(s.stoppedBy, 'failures-in-row')
    assert.is(s.resources.gpu!.allocatedShare, 1)
    assert.is(s.resources.cpu!.allocatedShare, 0.5)
    // The cpu hosts' cores are free, but the typical task (it wants a gpu) fits nowhere: stranded.
    assert.is(s.resources.cpu!.stranded, 8000)
    assert.is(s.resources.cpu!.strandedShare, 0.5)
  }
})

capacity('--fill with the same seed prints byte-identical JSON; the text names strategies and stranded capacity', async () => {
  const args = ['sim', '--fill', '--replicas', '300', '--peers', '30', '--profile', 'uniform', '--seed', '8']
  const [a, b, text] = await Promise.all([runCli([...args, '--json']), runCli([...args, '--json']), runCli(args)])
  assert.is(a.code, 0, a.stderr)
  assert.is(a.stdout, b.stdout)
  assert.is(text.code, 0, text.stderr)
  assert.match(text.stdout, /^binpack\s+\d+/m)
  assert.match(text.stdout, /^spread\s+\d+/m)
  assert.match(text.stdout, /stranded: free on peers where the typical service \(cpu \d+m, memory \d+Mi\) no longer fits/)
  assert.not.match(text.stderr, /\r/, 'no progress line when stderr is not a terminal')
})

capacity('--fill --strategy binpack compares one strategy; --fill-failures sets the run that ends it', async () => {
  const inventory = write('fleet2.yaml', INVENTORY)
  const trace = write('gpu2.csv', `${TRACE_HEADER}\ntrain,1000,1024,1,0,,,\n`)
  const result = await runCli(['sim', '--fill', '--trace', trace, '--inventory', inventory, '--strategy', 'binpack', '--fill-failures', '3', '--json'])
  assert.is(result.code, 0, result.stderr)
  const json = JSON.parse(result.stdout) as FillJson
  assert.equal(json.strategies.map((s) => s.strategy), ['binpack'])
  assert.is(json.strategies[0]!.arrivals, 11)
})

capacity('--sweep finds the smallest fleet that survives losing 10 % and a zone, with headroom and a chart', async () => {
  // 40 one-core replicas on 4-core peers: 10 peers hold them; losing a zone of a quarter needs 15.
  const spec = write('app.yaml', 'services:\n  web:\n    image: app:1\n    replicas: 40\n    resources: { cpu: 1, memory: 256 }\n')
  const report = path('sweep.html')
  const args = ['sim', '-f', spec, '--sweep', 'peers=5,10,12,15,20', '--profile', 'uniform', '--seed', '3']
  const [json, text] = await Promise.all([runCli([...args, '--json', '--report', report]), runCli(args)])
  assert.is(json.code, 0, json.stderr)
  const answer = JSON.parse(json.stdout) as { smallestFleet: number; headroom: Record<string, Record<string, number>>; rows: Array<{ peers: number; loss: string; replicasPending: number }> }
  assert.is(answer.smallestFleet, 15)
  assert.equal(Object.keys(answer.headroom), ['none', '10%', 'zone'])
  assert.is(answer.headroom.zone!.cpu, 0.0909)
  assert.is(answer.rows.find((r) => r.peers === 12 && r.loss === 'zone')!.replicasPending, 4)
  assert.match(text.stdout, /smallest fleet that places everything and keeps it placed after losing 10% of the peers or any one zone: 15 peers/)
  const html = readFileSync(report, 'utf8')
  assert.match(html, /Replicas placed by fleet size/)
  assert.match(html, /<svg /)
  assert.match(html, /smallest fleet: 15 peers/)
  assert.not.match(html, /<script|https?:\/\//)
})

capacity('--sweep exits 1 when no size holds the workload', async () => {
  const spec = write('big.yaml', 'services:\n  web:\n    image: app:1\n    replicas: 40\n    resources: { cpu: 1, memory: 256 }\n')
  const result = await runCli(['sim', '-f', spec, '--sweep', 'peers=2,4', '--profile', 'uniform', '--lose', 'none'])
  assert.is(result.code, 1)
  assert.match(result.stdout, /no size tried places everything; try larger fleets/)
})

capacity('a trace row\'s strategy and constraints columns, and --constraint for every row, reach placement', async () => {
  const inventory = write('fleet3.yaml', INVENTORY)
  const trace = write('pinned.csv', `${TRACE_HEADER}\npinned,1000,1024,0,0,,binpack,"zone == a"\n`)
  const result = await runCli(['sim', '--fill', '--trace', trace, '--inventory', inventory, '--json'])
  assert.is(result.code, 0, result.stderr)
  const json = JSON.parse(result.stdout) as FillJson
  // Only the two zone-a peers, 4 cores each.
  assert.is(json.strategies[0]!.servicesPlaced, 8)
  const flagged = await runCli(['sim', '--fill', '--trace', trace, '--inventory', inventory, '--constraint', 'gpu exists', '--json'])
  assert.is(flagged.code, 0, flagged.stderr)
  assert.match(flagged.stdout, /"servicesPlaced":0/)
})

capacity('bad capacity options exit 2 with one line that names the option', async () => {
  const badTrace = write('bad-strategy.csv', `${TRACE_HEADER}\nx,100,64,0,0,,pack-tight,\n`)
  const globalOnly = write('global.yaml', 'services:\n  agent:\n    image: a:1\n    mode: global\n')
  const asksNothing = write('free.yaml', 'services:\n  free:\n    image: a:1\n    resources: { cpu: 0, memory: 0 }\n')
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['sim', '--fill', '--replicas', '10', '--strategy', 'tetris'], message: /--strategy: expected spread, binpack/ },
    { args: ['sim', '--fill', '--replicas', '10', '--strategy', 'spread,spread'], message: /names a strategy twice/ },
    { args: ['sim', '--fill', '--sweep', 'peers=5', '--replicas', '10'], message: /give --fill or --sweep, not both/ },
    { args: ['sim', '--fill', '--replicas', '10', '--fill-failures', '0'], message: /--fill-failures: expected a whole number/ },
    { args: ['sim', '--replicas', '10', '--fill-failures', '3'], message: /--fill-failures goes with --fill/ },
    { args: ['sim', '--fill', '--replicas', '10', '--faults', 'kill=1'], message: /--faults and --swarm apply to a simulated run, not to --fill/ },
    { args: ['sim', '--sweep', 'nodes=5', '--replicas', '10'], message: /--sweep: expected peers=<n>,<n>/ },
    { args: ['sim', '--sweep', 'peers=5,x', '--replicas', '10'], message: /--sweep: fleet sizes are whole numbers/ },
    { args: ['sim', '--sweep', 'peers=5', '--replicas', '10', '--lose', '150%'], message: /--lose: expected none, zone or a share of peers/ },
    { args: ['sim', '--sweep', 'peers=5', '--replicas', '10', '--peers', '5'], message: /leave out --peers and --inventory/ },
    { args: ['sim', '--replicas', '10', '--lose', 'zone'], message: /--lose goes with --sweep/ },
    { args: ['sim', '--replicas', '10', '--constraint', 'zone == a'], message: /--constraint applies to the rows of a --trace/ },
    { args: ['sim', '--trace', 'examples/trace.csv', '--constraint', 'zone ~~ a'], message: /--constraint "zone ~~ a": / },
    { args: ['sim', '--replicas', '10', '--strategy', 'binpack'], message: /--strategy applies to --fill/ },
    { args: ['sim', '--fill', '--trace', badTrace], message: /bad-strategy\.csv:2:strategy: expected spread or binpack/ },
    { args: ['sim', '--fill', '-f', globalOnly], message: /--fill: the workload has no service to draw/ },
    { args: ['sim', '--fill', '-f', asksNothing], message: /--fill: service free asks for no cpu, memory or other resource/ },
  ]
  const limit = concurrencyLimit(4)
  const results = await Promise.all(cases.map((c) => limit(() => runCli(c.args))))
  results.forEach((result, i) => {
    assert.is(result.code, 2, `${cases[i]!.args.join(' ')}: ${result.stderr}`)
    assert.match(result.stderr, cases[i]!.message)
  })
})

capacity('a simulated run reports each resource\'s mean and peak allocation, and slots pending or never placed', async () => {
  const inventory = write('two-gpus.yaml', 'peers:\n  - { name: g1, capacity: { cpu: 4, memory: 8Gi, gpu: 1 } }\n  - { name: g2, capacity: { cpu: 4, memory: 8Gi, gpu: 1 } }\n')
  const spec = write('trainer.yaml', 'services:\n  trainer:\n    image: train:1\n    replicas: 3\n    resources: { cpu: 1, memory: 512, gpu: 1 }\n')
  const result = await runCli(['sim', '-f', spec, '--inventory', inventory, '--duration', '10s', '--seed', '2', '--json'])
  assert.is(result.code, 0, result.stderr)
  const json = JSON.parse(result.stdout) as { pendingSlots: number; neverPlacedSlots: number; allocation: Record<string, { meanShare: number; peakShare: number }> }
  assert.is(json.pendingSlots, 1)
  assert.is(json.neverPlacedSlots, 1)
  assert.equal(Object.keys(json.allocation), ['cpu', 'memory', 'gpu'])
  assert.is(json.allocation.gpu!.peakShare, 1)
  assert.ok(json.allocation.gpu!.meanShare > 0.5 && json.allocation.gpu!.meanShare < 1, String(json.allocation.gpu!.meanShare))
  assert.is(json.allocation.cpu!.peakShare, 0.25)
})

capacity.run()
