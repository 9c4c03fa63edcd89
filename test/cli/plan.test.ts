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

/** A small Compose file: what plan --show-specs should show translated, and what it warns about. */
const COMPOSE = `version: "3.8"
services:
  web:
    image: registry.local/shop:\${PEER_PLAN_TEST_TAG:-latest}
    command: gunicorn -b "0.0.0.0:8000" shop.wsgi
    environment: { DATABASE_URL: "postgres://shop@db/shop" }
    ports: ["80:8000"]
    volumes: ["./media:/srv/media:ro"]
    stop_grace_period: 1m30s
    healthcheck: { test: curl -f http://localhost:8000/health, interval: 10s }
    deploy:
      replicas: 2
      resources: { limits: { cpus: "0.5", memory: 256M } }
      placement: { constraints: ["node.labels.zone == eu-west"] }
    depends_on: [db]
  db:
    image: postgres:16
  debug:
    image: busybox
    profiles: [debug]
`

/** The services `--show-specs` printed, read back from the YAML between its heading and the plan. */
function shownSpecs(stdout: string): Record<string, Record<string, unknown>> {
  const start = stdout.indexOf('Services as peer reads them:')
  const end = stdout.indexOf('Plan: ')
  assert.ok(start >= 0 && end > start, stdout)
  return (parse(stdout.slice(start + 'Services as peer reads them:'.length, end)) as { services: Record<string, Record<string, unknown>> }).services
}

planCli('--show-specs prints a Compose file as peer reads it; the warnings go to stderr', async () => {
  const file = write('compose.yaml', COMPOSE)
  const result = await runCli(['plan', '-f', file, '--inventory', 'examples/inventory.yaml', '--show-specs'])
  assert.is(result.code, 0, result.stderr)
  const specs = shownSpecs(result.stdout)
  assert.equal(Object.keys(specs), ['web', 'db'])
  const web = specs.web!
  assert.is(web.image, 'registry.local/shop:latest')
  assert.equal(web.command, ['gunicorn', '-b', '0.0.0.0:8000', 'shop.wsgi'])
  assert.equal(web.env, { DATABASE_URL: 'postgres://shop@db/shop' })
  assert.is(web.replicas, 2)
  assert.equal(web.resources, { cpu: '500m', memory: 256 })
  assert.equal(web.constraints, [{ label: 'zone', op: '==', values: ['eu-west'] }])
  // "80:8000" publishes 80 on every peer: the routing mesh, Swarm's default, without a warning.
  assert.equal(web.ports, [{ host: 80, container: 8000, protocol: 'tcp', mode: 'ingress' }])
  assert.equal(web.mounts, [{ type: 'bind', target: '/srv/media', source: path('media'), readOnly: true }])
  assert.is(web.stopGrace, 90_000)
  assert.equal((web.healthcheck as Record<string, unknown>).command, ['/bin/sh', '-c', 'curl -f http://localhost:8000/health'])
  assert.match(result.stdout, /Plan: 3 to place/)
  assert.not.match(result.stdout, /warning/)
  assert.match(result.stderr, `${file}: services.web.depends_on: ignored`)
  assert.is(result.stderr.trim().split('\n').length, 1, result.stderr)
})

planCli('--strict refuses what would be a warning, and exits 2', async () => {
  const file = write('compose-strict.yaml', COMPOSE)
  const result = await runCli(['plan', '-f', file, '--inventory', 'examples/inventory.yaml', '--strict'])
  assert.is(result.code, 2)
  assert.is(result.stdout, '')
  assert.match(result.stderr, `${file}: services.web.depends_on: ignored: peer starts services independently`)
  assert.match(result.stderr, '(--strict)')
})

planCli('--format peer reads a Compose file as peer\'s format, whose unknown fields are errors', async () => {
  const file = write('compose-as-peer.yaml', COMPOSE)
  const result = await runCli(['plan', '-f', file, '--inventory', 'examples/inventory.yaml', '--format', 'peer'])
  assert.is(result.code, 2)
  assert.match(result.stderr, `${file}: services.web.environment: unknown field`)
  assert.match(result.stderr, `${file}: services.web.deploy: unknown field`)
})

planCli('--format compose forces a file with only shared fields to be read as Compose', async () => {
  // "8080:80" means a host-mode port to peer's format and an ingress port (the mesh) to Compose.
  const file = write('shared.yaml', 'services:\n  web:\n    image: nginx\n    ports: ["8080:80"]\n')
  const asPeer = await runCli(['plan', '-f', file, '--inventory', 'examples/inventory.yaml', '--show-specs'])
  assert.is(asPeer.code, 0, asPeer.stderr)
  assert.is(asPeer.stderr, '')
  assert.equal(shownSpecs(asPeer.stdout).web!.ports, [{ host: 8080, container: 80, protocol: 'tcp' }])
  const asCompose = await runCli(['plan', '-f', file, '--inventory', 'examples/inventory.yaml', '--show-specs', '--format', 'compose'])
  assert.is(asCompose.code, 0, asCompose.stderr)
  assert.is(asCompose.stderr, '')
  assert.equal(shownSpecs(asCompose.stdout).web!.ports, [{ host: 8080, container: 80, protocol: 'tcp', mode: 'ingress' }])
})

planCli('--env-file sets ${VAR}; --profile adds a service; an override of image: alone joins the Compose file', async () => {
  const file = write('compose-env.yaml', COMPOSE)
  const env = write('tag.env', 'PEER_PLAN_TEST_TAG=1.4\n')
  const override = write('override.yaml', 'services:\n  db:\n    image: postgres:17\n')
  const result = await runCli(['plan', '-f', file, '-f', override, '--inventory', 'examples/inventory.yaml', '--show-specs', '--env-file', env, '--profile', 'debug'])
  assert.is(result.code, 0, result.stderr)
  const specs = shownSpecs(result.stdout)
  assert.equal(Object.keys(specs), ['web', 'db', 'debug'])
  assert.is(specs.web!.image, 'registry.local/shop:1.4')
  assert.is(specs.db!.image, 'postgres:17')
  const missing = await runCli(['plan', '-f', file, '--inventory', 'examples/inventory.yaml', '--env-file', path('none.env')])
  assert.is(missing.code, 2)
  assert.match(missing.stderr, /none\.env: no such file \(given with --env-file\)/)
})

planCli.run()
