// `peer plan` as a user runs it: real process, real files, exit codes and messages.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { parse, stringify } from 'yaml'
import { runCli, suiteFolder } from './run-cli.js'

const planCli = suite('peer plan')
const { path, write } = suiteFolder(planCli, 'peer-plan-')

planCli('places every replica of the hello example and exits 0', async () => {
  const result = await runCli(['plan', '-f', 'examples/hello.yaml', '--inventory', 'examples/inventory.yaml'])
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /Plan: 2 to place, 0 to stop, 1 kept, 0 pending/)
  assert.match(result.stdout, /hello\/0 /)
  assert.match(result.stdout, /hello\/1 /)
  assert.match(result.stdout, /edge-5\s+cordoned/)
})

planCli('over an inventory, the secrets a spec lists are taken to exist, and its existing tasks are on its version', async () => {
  const hello = parse(readFileSync('examples/hello.yaml', 'utf8')) as { services: Record<string, Record<string, unknown>> }
  for (const service of Object.values(hello.services)) service.secrets = ['db-password']
  const result = await runCli(['plan', '-f', write('hello-secrets.yaml', stringify(hello)), '--inventory', 'examples/inventory.yaml'])
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /Plan: 2 to place, 0 to stop, 1 kept, 0 pending/)
})

planCli('lists unplaceable slots with their reasons and exits 1', async () => {
  const result = await runCli(['plan', '-f', 'examples/too-big.yaml', '--inventory', 'examples/inventory.yaml'])
  assert.is(result.code, 1, result.stderr)
  assert.match(result.stdout, /Pending \(no peer can take these\):/)
  assert.match(result.stdout, /bigdata\/0: .*not enough cpu/)
  assert.match(result.stdout, /constraint not met \(arch == amd64\)/)
})

planCli('an invalid spec names the file and the field path, and exits 2', async () => {
  const spec = write('bad.yaml', 'services:\n  web:\n    image: x\n    resources: { memory: lots }\n    replicas: -1\n')
  const result = await runCli(['plan', '-f', spec, '--inventory', 'examples/inventory.yaml'])
  assert.is(result.code, 2)
  assert.is(result.stdout, '')
  assert.match(result.stderr, `${spec}: services.web.resources.memory: expected a memory size`)
  assert.match(result.stderr, `${spec}: services.web.replicas: expected a whole number`)
})

planCli('a YAML syntax error names the line and column, and exits 2', async () => {
  const spec = write('syntax.yaml', 'services:\n  web:\n    image: [unclosed\n')
  const result = await runCli(['plan', '-f', spec, '--inventory', 'examples/inventory.yaml'])
  assert.is(result.code, 2)
  assert.match(result.stderr, new RegExp(`${spec}: \\d+:\\d+: `))
})

planCli('a missing file and an unknown option exit 2 with one clear line; without --inventory and no agent, exit 1 naming the socket', async () => {
  const missing = await runCli(['plan', '-f', path('nope.yaml'), '--inventory', 'examples/inventory.yaml'])
  assert.is(missing.code, 2)
  assert.match(missing.stderr, /nope\.yaml: no such file/)
  const noAgent = await runCli(['plan', '-f', 'examples/hello.yaml', '--peer', path('none.sock')])
  assert.is(noAgent.code, 1)
  assert.match(noAgent.stderr, /no agent is listening on .*none\.sock/)
  const unknown = await runCli(['plan', '-f', 'examples/hello.yaml', '--inventory', 'examples/inventory.yaml', '--bogus'])
  assert.is(unknown.code, 2)
  assert.match(unknown.stderr, /unknown option '--bogus'/)
})

planCli('an invalid inventory names its field path', async () => {
  const inventory = write('peers.yaml', 'peers:\n  - name: a\n    capacity: { cpu: 2 }\n    state: sleepy\n')
  const result = await runCli(['plan', '-f', 'examples/hello.yaml', '--inventory', inventory])
  assert.is(result.code, 2)
  assert.match(result.stderr, `${inventory}: peers[0].capacity.memory: capacity needs memory`)
  assert.match(result.stderr, `${inventory}: peers[0].state: expected one of`)
})

planCli('--json is byte-identical for the same input in any order', async () => {
  const inventory = parse(readFileSync('examples/inventory.yaml', 'utf8')) as { peers: unknown[] }
  const spec = parse(readFileSync('examples/web.yaml', 'utf8')) as { services: Record<string, unknown> }
  const reversedInventory = write('inv-reversed.yaml', stringify({ peers: [...inventory.peers].reverse() }))
  const reversedSpec = write('web-reversed.json', JSON.stringify({ services: Object.fromEntries(Object.entries(spec.services).reverse()) }))
  const [a, b] = await Promise.all([
    runCli(['plan', '-f', 'examples/web.yaml', '--inventory', 'examples/inventory.yaml', '--json']),
    runCli(['plan', '-f', reversedSpec, '--inventory', reversedInventory, '--json']),
  ])
  assert.is(a.code, 0, a.stderr)
  assert.is(b.stdout, a.stdout)
  const parsed = JSON.parse(a.stdout) as { summary: { place: number }; placements: Array<{ slot: string; peer: string }> }
  assert.is(parsed.summary.place, parsed.placements.length)
  assert.ok(parsed.placements.some((p) => p.slot === 'web/0'))
})

planCli('--explain lists every candidate of a service, and rejects an unknown service', async () => {
  const result = await runCli(['plan', '-f', 'examples/web.yaml', '--inventory', 'examples/inventory.yaml', '--explain', 'cache'])
  assert.is(result.code, 0, result.stderr)
  assert.match(result.stdout, /Candidates for cache:/)
  assert.match(result.stdout, /edge-1 .* 1 /)
  assert.match(result.stdout, /constraint not met \(disk == ssd\)/)
  const unknown = await runCli(['plan', '-f', 'examples/web.yaml', '--inventory', 'examples/inventory.yaml', '--explain', 'nope'])
  assert.is(unknown.code, 2)
  assert.match(unknown.stderr, /--explain: no service named "nope"/)
})

planCli.run()
