// Validation at the boundary: every accepted form, every default, every error with its field path,
// and the two spec identities (specHash: must a task be replaced? specDigest: same whole spec?).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  DEFAULT_HEALTHCHECK_TIMING, DEFAULT_RESOURCES, DEFAULT_UPDATE, DURATION_RANGES, RESOURCE_LIMITS, SPEC_LIMITS, defaultRestart,
  formatDurationMs, specDigest, specHash, validateServices, type ServiceSpec, type SpecError,
} from '../../../core/index.js'

function services(document: unknown): ServiceSpec[] {
  const result = validateServices(document)
  if (!result.ok) throw new Error(`expected a valid document, got ${JSON.stringify(result.errors)}`)
  return result.services
}

function one(body: Record<string, unknown>): ServiceSpec {
  const list = services({ services: { web: body } })
  assert.is(list.length, 1)
  return list[0]!
}

function errors(document: unknown): SpecError[] {
  const result = validateServices(document)
  if (result.ok) throw new Error(`expected errors, got services ${JSON.stringify(result.services)}`)
  return result.errors
}

const paths = (document: unknown) => [...new Set(errors(document).map((e) => e.path))].sort()

// ---------------------------------------------------------------------------------------------------

const Forms = suite('validateServices document forms')

Forms('the map form names each service by its key', () => {
  const list = services({ services: { web: { image: 'nginx' }, api: { command: 'node server.js' } } })
  assert.equal(list.map((s) => s.name), ['web', 'api'])
})

Forms('the map form accepts a name field equal to its key', () => {
  assert.is(services({ services: { web: { name: 'web', image: 'nginx' } } })[0]!.name, 'web')
})

Forms('the map form accepts a compose-style version field', () => {
  assert.is(services({ version: '3.8', services: { web: { image: 'nginx' } } }).length, 1)
})

Forms('the list form under "services" takes names from the entries', () => {
  const list = services({ services: [{ name: 'web', image: 'nginx' }, { name: 'api', command: ['node', 'server.js'] }] })
  assert.equal(list.map((s) => s.name), ['web', 'api'])
})

Forms('a bare list of services is accepted', () => {
  const list = services([{ name: 'web', image: 'nginx' }, { name: 'db', image: 'postgres' }])
  assert.equal(list.map((s) => s.name), ['web', 'db'])
})

Forms('a single service document is accepted', () => {
  const list = services({ name: 'web', command: 'sleep 1000', replicas: 3 })
  assert.is(list.length, 1)
  assert.is(list[0]!.name, 'web')
  assert.is(list[0]!.replicas, 3)
})

Forms('all forms of the same service give the same spec', () => {
  const body = { image: 'nginx', replicas: 2, ports: ['8080:80'] }
  const fromMap = services({ services: { web: body } })[0]
  const fromList = services({ services: [{ name: 'web', ...body }] })[0]
  const fromBare = services([{ name: 'web', ...body }])[0]
  const fromSingle = services({ name: 'web', ...body })[0]
  assert.equal(fromList, fromMap)
  assert.equal(fromBare, fromMap)
  assert.equal(fromSingle, fromMap)
})

Forms.run()

// ---------------------------------------------------------------------------------------------------

const Defaults = suite('validateServices defaults')

Defaults('a docker service written as just an image gets every default', () => {
  assert.equal(one({ image: 'nginx:1.27' }), {
    name: 'web',
    driver: 'docker',
    image: 'nginx:1.27',
    command: [],
    env: {},
    mode: 'replicated',
    replicas: 1,
    resources: { cpuMilli: 100, memoryMiB: 64, extended: {} },
    constraints: [],
    maxPerNode: 0,
    strategy: 'spread',
    spreadBy: '',
    ports: [],
    healthcheck: null,
    restart: { condition: 'always', delayMs: 1000, maxDelayMs: 60_000, maxAttempts: 5, windowMs: 120_000 },
    update: { parallelism: 1, delayMs: 0, order: 'stop-first', autoRollback: false, healthDeadlineMs: 60_000 },
    labels: {},
  })
})

Defaults('the exported default constants are the ones applied', () => {
  const spec = one({ image: 'nginx' })
  assert.equal(spec.resources, DEFAULT_RESOURCES)
  assert.equal(spec.update, DEFAULT_UPDATE)
  assert.equal(spec.restart, defaultRestart('replicated'))
})

const inferred: Array<{ name: string; body: Record<string, unknown>; driver: string; command: string[] }> = [
  { name: 'an image alone infers the docker driver', body: { image: 'nginx' }, driver: 'docker', command: [] },
  { name: 'an image and a command infer docker (the command overrides the image\'s)', body: { image: 'busybox', command: 'sleep 5' }, driver: 'docker', command: ['sleep', '5'] },
  { name: 'a command alone infers the process driver', body: { command: ['sleep', '1000'] }, driver: 'process', command: ['sleep', '1000'] },
  { name: 'a command string is split on whitespace', body: { command: '  python3  -m http.server 8000 ' }, driver: 'process', command: ['python3', '-m', 'http.server', '8000'] },
  { name: 'numbers in a command list become strings', body: { command: ['sleep', 30] }, driver: 'process', command: ['sleep', '30'] },
]
for (const { name, body, driver, command } of inferred) {
  Defaults(name, () => {
    const spec = one(body)
    assert.is(spec.driver, driver)
    assert.equal(spec.command, command)
  })
}

Defaults('replicated services restart "always", jobs restart "on-failure"', () => {
  assert.is(one({ image: 'nginx' }).restart.condition, 'always')
  assert.is(one({ image: 'migrate', mode: 'job' }).restart.condition, 'on-failure')
  assert.is(one({ image: 'agent', mode: 'global' }).restart.condition, 'always')
})

Defaults('a job given an explicit restart condition keeps it', () => {
  assert.is(one({ image: 'migrate', mode: 'job', restart: { condition: 'never' } }).restart.condition, 'never')
})

Defaults('a partial restart policy keeps the mode\'s defaults for the rest', () => {
  assert.equal(one({ image: 'migrate', mode: 'job', restart: { delay: '2s' } }).restart, { ...defaultRestart('job'), delayMs: 2000 })
})

Defaults('a partial update policy keeps the defaults for the rest', () => {
  assert.equal(one({ image: 'nginx', update: { parallelism: 3, order: 'start-first' } }).update,
    { ...DEFAULT_UPDATE, parallelism: 3, order: 'start-first' })
})

Defaults('an update policy with every field is read in full', () => {
  assert.equal(one({ image: 'nginx', update: { parallelism: 2, delay: '10s', order: 'start-first', autoRollback: true, healthDeadline: '5m' } }).update,
    { parallelism: 2, delayMs: 10_000, order: 'start-first', autoRollback: true, healthDeadlineMs: 300_000 })
})

Defaults('a healthcheck with only a command gets the default timing', () => {
  assert.equal(one({ image: 'nginx', healthcheck: { command: 'curl -f http://localhost/' } }).healthcheck,
    { command: ['curl', '-f', 'http://localhost/'], ...DEFAULT_HEALTHCHECK_TIMING })
})

Defaults('a healthcheck with every field is read in full', () => {
  assert.equal(one({ image: 'nginx', healthcheck: { command: ['true'], interval: '5s', timeout: '1s', retries: 5, startPeriod: '30s' } }).healthcheck,
    { command: ['true'], intervalMs: 5000, timeoutMs: 1000, retries: 5, startPeriodMs: 30_000 })
})

Defaults('a null healthcheck means none', () => {
  assert.is(one({ image: 'nginx', healthcheck: null }).healthcheck, null)
})

Defaults('a partial resources map keeps the default for the other dimension', () => {
  assert.equal(one({ image: 'nginx', resources: { cpu: '250m' } }).resources, { cpuMilli: 250, memoryMiB: 64, extended: {} })
  assert.equal(one({ image: 'nginx', resources: { memory: '1Gi' } }).resources, { cpuMilli: 100, memoryMiB: 1024, extended: {} })
})

Defaults('extended resources are kept as counts, and a zero count is dropped', () => {
  assert.equal(one({ image: 'nginx', resources: { cpu: 2, memory: 512, gpu: 1, fpga: 0 } }).resources,
    { cpuMilli: 2000, memoryMiB: 512, extended: { gpu: 1 } })
})

const portForms: Array<{ input: unknown; expected: { host: number; container: number; protocol: string; mode?: string } }> = [
  { input: '8080:80', expected: { host: 8080, container: 80, protocol: 'tcp' } },
  { input: '53:53/udp', expected: { host: 53, container: 53, protocol: 'udp' } },
  { input: '9000', expected: { host: 9000, container: 9000, protocol: 'tcp' } },
  { input: 8080, expected: { host: 8080, container: 8080, protocol: 'tcp' } },
  { input: '65535:1/tcp', expected: { host: 65535, container: 1, protocol: 'tcp' } },
  { input: { host: 8443, container: 443 }, expected: { host: 8443, container: 443, protocol: 'tcp' } },
  { input: { host: 5353, protocol: 'udp' }, expected: { host: 5353, container: 5353, protocol: 'udp' } },
  { input: { host: 8080, container: 80, mode: 'host' }, expected: { host: 8080, container: 80, protocol: 'tcp' } },
  { input: { host: 8080, container: 80, mode: 'ingress' }, expected: { host: 8080, container: 80, protocol: 'tcp', mode: 'ingress' } },
  { input: { container: 6379, mode: 'ingress' }, expected: { host: 0, container: 6379, protocol: 'tcp', mode: 'ingress' } },
  { input: { host: 0, container: 53, protocol: 'udp', mode: 'ingress' }, expected: { host: 0, container: 53, protocol: 'udp', mode: 'ingress' } },
]
for (const { input, expected } of portForms) {
  Defaults(`the port ${JSON.stringify(input)} reads as ${expected.host}:${expected.container}/${expected.protocol}`, () => {
    assert.equal(one({ image: 'nginx', ports: [input] }).ports, [expected])
  })
}

Defaults('ports published somewhere come before those published nowhere, each in written order', () => {
  const ports = one({ image: 'nginx', ports: [{ container: 6379, mode: 'ingress' }, '8080:80', { container: 53, protocol: 'udp', mode: 'ingress' }, { host: 9000, mode: 'ingress' }] }).ports
  assert.equal(ports.map((p) => `${p.host}:${p.container}/${p.protocol}`), ['8080:80/tcp', '9000:9000/tcp', '0:6379/tcp', '0:53/udp'])
})

Defaults('the same host port over tcp and udp is allowed', () => {
  assert.is(one({ image: 'dns', ports: ['53:53/tcp', '53:53/udp'] }).ports.length, 2)
})

Defaults('env is read from a map, with numbers and booleans as strings', () => {
  assert.equal(one({ image: 'nginx', env: { A: 'x', PORT: 8080, DEBUG: true } }).env, { A: 'x', PORT: '8080', DEBUG: 'true' })
})

Defaults('env is read from a compose-style KEY=value list, splitting at the first "="', () => {
  assert.equal(one({ image: 'nginx', env: ['A=1', 'B=x=y', 'EMPTY='] }).env, { A: '1', B: 'x=y', EMPTY: '' })
})

Defaults('constraints are read from strings and from { label, op, value(s) } objects', () => {
  assert.equal(one({
    image: 'nginx',
    constraints: ['zone == eu', { label: 'arch', op: '!=', value: 'arm64' }, { label: 'tier', op: 'in', values: ['a', 'b'] }, { label: 'gpu', op: 'exists' }],
  }).constraints, [
    { label: 'zone', op: '==', values: ['eu'] },
    { label: 'arch', op: '!=', values: ['arm64'] },
    { label: 'tier', op: 'in', values: ['a', 'b'] },
    { label: 'gpu', op: 'exists', values: [] },
  ])
})

Defaults('replicas 0 is a valid (scaled-to-zero) service', () => {
  assert.is(one({ image: 'nginx', replicas: 0 }).replicas, 0)
})

Defaults.run()

// ---------------------------------------------------------------------------------------------------

const Errors = suite('validateServices errors')

const web = (body: Record<string, unknown>) => ({ services: { web: { image: 'nginx', ...body } } })

const errorCases: Array<{ name: string; input: unknown; paths: string[]; message?: RegExp }> = [
  // memory, cpu and other resources
  { name: 'an unreadable memory size names resources.memory', input: web({ resources: { memory: 'lots' } }), paths: ['services.web.resources.memory'], message: /memory size/ },
  { name: 'cpu written as bare millicores names resources.cpu and suggests "m"', input: web({ resources: { cpu: 2000 } }), paths: ['services.web.resources.cpu'], message: /"2000m"/ },
  { name: 'a fractional extended resource names it', input: web({ resources: { gpu: 1.5 } }), paths: ['services.web.resources.gpu'], message: /whole counts/ },
  { name: 'a negative extended resource names it', input: web({ resources: { gpu: -1 } }), paths: ['services.web.resources.gpu'] },
  { name: 'an upper-case resource name is refused', input: web({ resources: { GPU: 1 } }), paths: ['services.web.resources.GPU'] },
  { name: 'resources that are not a map', input: web({ resources: '1 cpu' }), paths: ['services.web.resources'] },
  // constraints
  { name: 'the second of two constraints is named by its index', input: web({ constraints: ['zone == eu', 'zone = eu'] }), paths: ['services.web.constraints[1]'], message: /cannot parse/ },
  { name: 'an invalid regular expression in a constraint', input: web({ constraints: ['host matches [a'] }), paths: ['services.web.constraints[0]'], message: /regular expression/ },
  { name: 'a constraint pattern outside the supported subset', input: web({ constraints: ['zone == eu', 'host matches (?<=a)b'] }), paths: ['services.web.constraints[1]'], message: /lookbehind \(\?<=…\) is not supported/ },
  { name: 'a constraint object with an unknown op', input: web({ constraints: [{ label: 'zone', op: '=', value: 'eu' }] }), paths: ['services.web.constraints[0].op'] },
  { name: 'a constraint object with non-string values', input: web({ constraints: [{ label: 'zone', op: 'in', values: [{}] }] }), paths: ['services.web.constraints[0].values'] },
  { name: 'a constraint object with a bad label', input: web({ constraints: [{ label: 'a b', op: 'exists' }] }), paths: ['services.web.constraints[0].label'] },
  { name: 'a constraint object whose value breaks its op', input: web({ constraints: [{ label: 'host', op: 'matches', value: '[a' }] }), paths: ['services.web.constraints[0].value'], message: /regular expression/ },
  { name: 'constraints that are not a list', input: web({ constraints: 'zone == eu' }), paths: ['services.web.constraints'] },
  { name: 'more constraints than the limit', input: web({ constraints: Array.from({ length: SPEC_LIMITS.maxConstraints + 1 }, () => 'zone == eu') }), paths: ['services.web.constraints'] },
  // names
  { name: 'a listed service without a name', input: { services: [{ image: 'nginx' }] }, paths: ['services[0].name'] },
  { name: 'a listed service with an upper-case name', input: { services: [{ name: 'Web', image: 'nginx' }] }, paths: ['services[0].name'] },
  { name: 'a bare-list service without a name', input: [{ image: 'nginx' }], paths: ['[0].name'] },
  { name: 'a map key that is not a DNS label', input: { services: { 'web_1': { image: 'nginx' } } }, paths: ['services.web_1.name'] },
  { name: 'a name longer than 63 characters', input: { services: [{ name: 'a'.repeat(64), image: 'nginx' }] }, paths: ['services[0].name'] },
  { name: 'a name field that differs from its map key', input: { services: { web: { name: 'api', image: 'nginx' } } }, paths: ['services.web.name'], message: /does not match its key/ },
  { name: 'a single service without a name', input: { image: 'nginx' }, paths: ['name'] },
  { name: 'duplicate names in the list form name the second one', input: { services: [{ name: 'web', image: 'a' }, { name: 'web', image: 'b' }] }, paths: ['services[1].name'], message: /already defined at services\[0\]/ },
  { name: 'duplicate names in a bare list', input: [{ name: 'web', image: 'a' }, { name: 'api', image: 'b' }, { name: 'web', image: 'c' }], paths: ['[2].name'] },
  // unknown fields
  { name: 'an unknown service field is named', input: web({ replica: 3 }), paths: ['services.web.replica'], message: /unknown field/ },
  { name: 'a compose-only field is named', input: web({ build: '.' }), paths: ['services.web.build'] },
  { name: 'an unknown top-level field is named', input: { services: { web: { image: 'nginx' } }, networks: {} }, paths: ['networks'] },
  { name: 'an unknown restart field is named', input: web({ restart: { delays: '1s' } }), paths: ['services.web.restart.delays'] },
  { name: 'an unknown update field is named', input: web({ update: { paralelism: 2 } }), paths: ['services.web.update.paralelism'] },
  { name: 'an unknown healthcheck field is named', input: web({ healthcheck: { command: 'true', test: 'x' } }), paths: ['services.web.healthcheck.test'] },
  // drivers
  { name: 'docker without an image', input: { services: { web: { driver: 'docker', command: 'sleep 1' } } }, paths: ['services.web.image'], message: /needs an image/ },
  { name: 'process without a command', input: { services: { web: { driver: 'process' } } }, paths: ['services.web.command'], message: /needs a command/ },
  { name: 'a service with neither image nor command', input: { services: { web: { replicas: 2 } } }, paths: ['services.web.command'] },
  { name: 'process with an image', input: { services: { web: { driver: 'process', image: 'nginx', command: 'nginx' } } }, paths: ['services.web.image'], message: /set driver: docker/ },
  { name: 'a command that is neither a string nor a list of strings', input: web({ command: { run: 'x' } }), paths: ['services.web.command'] },
  { name: 'an image that is not a string', input: { services: { web: { driver: 'docker', image: 42 } } }, paths: ['services.web.image'], message: /expected a string/ },
  // ports
  { name: 'a host port above 65535', input: web({ ports: ['70000:80'] }), paths: ['services.web.ports[0]'], message: /1-65535/ },
  { name: 'a container port above 65535', input: web({ ports: ['8080:70000'] }), paths: ['services.web.ports[0]'] },
  { name: 'port zero', input: web({ ports: ['0:80'] }), paths: ['services.web.ports[0]'] },
  { name: 'an unknown protocol', input: web({ ports: ['8080:80/sctp'] }), paths: ['services.web.ports[0]'] },
  { name: 'a port object with an unknown protocol', input: web({ ports: [{ host: 80, protocol: 'TCP' }] }), paths: ['services.web.ports[0].protocol'] },
  { name: 'a port object with a host port as text', input: web({ ports: [{ host: '80' }] }), paths: ['services.web.ports[0].host'] },
  { name: 'a port object without a host port', input: web({ ports: [{ container: 80 }] }), paths: ['services.web.ports[0].host'] },
  { name: 'a port object with a container port of 0', input: web({ ports: [{ host: 80, container: 0 }] }), paths: ['services.web.ports[0].container'] },
  { name: 'a port range', input: web({ ports: ['8000-8010:80'] }), paths: ['services.web.ports[0]'] },
  { name: 'an ingress port in the range peers give tasks', input: web({ ports: [{ host: 25000, container: 80, mode: 'ingress' }] }), paths: ['services.web.ports[0].host'], message: /20000-32000/ },
  { name: 'an unknown port mode', input: web({ ports: [{ host: 80, mode: 'vip' }] }), paths: ['services.web.ports[0].mode'] },
  { name: 'an ingress port published nowhere without its container port', input: web({ ports: [{ mode: 'ingress' }] }), paths: ['services.web.ports[0].container'] },
  { name: 'a host-mode port without a host port', input: web({ ports: [{ container: 80, mode: 'host' }] }), paths: ['services.web.ports[0].host'], message: /or mode: ingress/ },
  { name: 'the same container port reachable by name twice', input: web({ ports: [{ container: 80, mode: 'ingress' }, { container: 80, mode: 'ingress' }] }), paths: ['services.web.ports[1]'], message: /container port 80\/tcp is listed twice/ },
  { name: 'a port published nowhere whose container port another entry publishes', input: web({ ports: [{ container: 80, mode: 'ingress' }, { host: 8080, container: 80, mode: 'ingress' }] }), paths: ['services.web.ports[0]'], message: /80\/tcp is already published by another entry/ },
  { name: 'a port published nowhere whose container port a host-mode entry publishes', input: web({ ports: ['8080:80', { container: 80, mode: 'ingress' }] }), paths: ['services.web.ports[1]'], message: /already published/ },
  { name: 'the same host port twice names the second', input: web({ ports: ['8080:80', '8080:81'] }), paths: ['services.web.ports[1]'], message: /8080\/tcp is listed twice/ },
  { name: 'ports that are not a list', input: web({ ports: '8080:80' }), paths: ['services.web.ports'] },
  // healthcheck
  { name: 'a healthcheck without a command', input: web({ healthcheck: { interval: '5s' } }), paths: ['services.web.healthcheck.command'], message: /needs a command/ },
  { name: 'a healthcheck interval without a unit', input: web({ healthcheck: { command: 'true', interval: '5' } }), paths: ['services.web.healthcheck.interval'] },
  { name: 'healthcheck retries of 0', input: web({ healthcheck: { command: 'true', retries: 0 } }), paths: ['services.web.healthcheck.retries'] },
  { name: 'a healthcheck that is a string', input: web({ healthcheck: 'curl localhost' }), paths: ['services.web.healthcheck'] },
  // restart
  { name: 'restart.maxDelay shorter than restart.delay', input: web({ restart: { delay: '10s', maxDelay: '5s' } }), paths: ['services.web.restart.maxDelay'], message: /shorter than delay/ },
  { name: 'an unknown restart condition', input: web({ restart: { condition: 'sometimes' } }), paths: ['services.web.restart.condition'] },
  { name: 'negative restart attempts', input: web({ restart: { maxAttempts: -1 } }), paths: ['services.web.restart.maxAttempts'] },
  // update
  { name: 'update parallelism 0', input: web({ update: { parallelism: 0 } }), paths: ['services.web.update.parallelism'] },
  { name: 'an unknown update order', input: web({ update: { order: 'random' } }), paths: ['services.web.update.order'] },
  { name: 'autoRollback that is not a boolean', input: web({ update: { autoRollback: 'yes' } }), paths: ['services.web.update.autoRollback'] },
  // replicas and the other scalars
  { name: 'replicas -1', input: web({ replicas: -1 }), paths: ['services.web.replicas'], message: /whole number/ },
  { name: 'replicas 1.5', input: web({ replicas: 1.5 }), paths: ['services.web.replicas'] },
  { name: 'replicas written as a string', input: web({ replicas: '3' }), paths: ['services.web.replicas'] },
  { name: 'replicas above the limit', input: web({ replicas: SPEC_LIMITS.maxReplicas + 1 }), paths: ['services.web.replicas'] },
  { name: 'maxPerNode -1', input: web({ maxPerNode: -1 }), paths: ['services.web.maxPerNode'] },
  { name: 'an unknown mode', input: web({ mode: 'daemonset' }), paths: ['services.web.mode'] },
  { name: 'an unknown strategy', input: web({ strategy: 'random' }), paths: ['services.web.strategy'] },
  { name: 'a spreadBy that is not a string', input: web({ spreadBy: ['zone'] }), paths: ['services.web.spreadBy'] },
  // env and labels
  { name: 'an env list entry without "="', input: web({ env: ['A=1', 'B'] }), paths: ['services.web.env[1]'], message: /KEY=value/ },
  { name: 'an env value that is an object', input: web({ env: { A: { nested: true } } }), paths: ['services.web.env.A'] },
  { name: 'labels given as a list', input: web({ labels: ['a=b'] }), paths: ['services.web.labels'] },
  // the document itself
  { name: 'a null document', input: null, paths: [''] },
  { name: 'a number as the document', input: 42, paths: [''] },
  { name: '"services" that is a string', input: { services: 'web' }, paths: ['services'] },
  { name: 'an empty services map', input: { services: {} }, paths: ['services'], message: /no services/ },
  { name: 'an empty list', input: [], paths: ['services'] },
  { name: 'a service body that is a string', input: { services: { web: 'nginx' } }, paths: ['services.web'] },
  { name: 'a listed service that is a number', input: { services: [7] }, paths: ['services[0]'] },
]
for (const { name, input, paths: expected, message } of errorCases) {
  Errors(`${name} is reported at ${expected.map((p) => p || '(root)').join(', ')}`, () => {
    assert.equal(paths(input), [...expected].sort())
    if (message) {
      const found = errors(input).filter((e) => expected.includes(e.path))
      assert.ok(found.some((e) => message.test(e.message)), `messages: ${found.map((e) => e.message).join(' | ')}`)
    }
  })
}

Errors('every error carries a sentence, not an empty message', () => {
  for (const { input } of errorCases) for (const error of errors(input)) assert.ok(error.message.length > 10, JSON.stringify(error))
})

Errors('several problems in one service are all reported at once', () => {
  assert.equal(paths(web({ replicas: -1, resources: { memory: 'x', cpu: 'y' }, ports: ['1:2', '70000'], colour: 'red' })), [
    'services.web.colour', 'services.web.ports[1]', 'services.web.replicas', 'services.web.resources.cpu', 'services.web.resources.memory',
  ])
})

Errors('problems in different services are all reported at once', () => {
  assert.equal(paths({ services: { web: { image: 'nginx', replicas: 1.5 }, api: { driver: 'docker' }, db: { image: 'pg', ports: ['x'] } } }),
    ['services.api.image', 'services.db.ports[0]', 'services.web.replicas'])
})

Errors('one invalid service makes the whole document invalid (no partial result)', () => {
  const result = validateServices({ services: { web: { image: 'nginx' }, api: { replicas: -1, image: 'x' } } })
  assert.is(result.ok, false)
})

// An unknown driver is one mistake; today it is reported together with follow-on errors about the
// process driver (which it silently falls back to): "needs a command" and "runs a command, not an
// image", which are misleading for `driver: dokcer` with an image.
Errors('an unknown driver is reported once, without follow-on errors from a fallback driver', () => {
  assert.equal(paths(web({ driver: 'dokcer' })), ['services.web.driver'])
})

Errors.run()

// ---------------------------------------------------------------------------------------------------

const Limits = suite('validateServices limits')

// Every duration has a range (limits.ts DURATION_RANGES): its ends are accepted, a millisecond beyond
// either is refused with the field path and the range. A healthcheck interval of 99999999h was once
// accepted, and Node clamped the timer to 1 ms: a healthcheck storm.
const durationBodies: Array<{ policy: string; field: string; min: number; max: number; body: (value: unknown) => Record<string, unknown> }> = []
for (const [policy, fields] of Object.entries(DURATION_RANGES)) {
  for (const [field, range] of Object.entries(fields)) {
    const body = (value: unknown): Record<string, unknown> => {
      const settings: Record<string, unknown> = { [field]: value }
      if (policy === 'healthcheck') settings.command = 'true'
      // maxDelay may not be shorter than delay: give the smallest delay so maxDelay's own range shows.
      if (policy === 'restart' && field === 'maxDelay') settings.delay = DURATION_RANGES.restart.delay.minMs
      // `service` holds the durations written at the service's top level (stopGrace).
      return policy === 'service' ? settings : { [policy]: settings }
    }
    durationBodies.push({ policy, field, min: range.minMs, max: range.maxMs, body })
  }
}
for (const { policy, field, min, max, body } of durationBodies) {
  const written = policy === 'service' ? field : `${policy}.${field}`
  const path = `services.web.${written}`
  const range = new RegExp(`from ${formatDurationMs(min)} to ${formatDurationMs(max)}`)
  Limits(`${written} takes ${formatDurationMs(min)} to ${formatDurationMs(max)}, and nothing beyond`, () => {
    one({ image: 'x', ...body(min) })
    one({ image: 'x', ...body(max) })
    one({ image: 'x', ...body(formatDurationMs(max)) })
    const outside: unknown[] = [max + 1, '99999999h', 1e308, `${max / 3_600_000 + 1}h`]
    if (min > 0) outside.push(min - 1, `${min - 1}ms`)
    for (const value of outside) {
      const found = errors(web(body(value)))
      assert.equal(found.map((e) => e.path), [path], `${JSON.stringify(value)}: ${JSON.stringify(found)}`)
      assert.match(found[0]!.message, range)
    }
  })
}

Limits('the healthcheck intervals the runtime conformance tests use (20 ms, 30 ms) are valid', () => {
  assert.is(one({ image: 'x', healthcheck: { command: 'true', interval: '20ms', timeout: '50ms' } }).healthcheck!.intervalMs, 20)
  assert.is(one({ image: 'x', healthcheck: { command: 'true', interval: '30ms', timeout: '1s' } }).healthcheck!.intervalMs, 30)
})

Limits('a wrong restart delay is one error, not also "maxDelay shorter than delay"', () => {
  assert.equal(paths(web({ restart: { delay: '25h', maxDelay: '1m' } })), ['services.web.restart.delay'])
  assert.equal(paths(web({ restart: { maxDelay: '100ms' } })), ['services.web.restart.maxDelay'])
})

const { maxCpuMilli, maxMemoryMiB, maxExtended } = RESOURCE_LIMITS
Limits('resources take up to 1024 cores, 1 PiB of memory and a million of an extended resource', () => {
  assert.equal(one({ image: 'x', resources: { cpu: 1024, memory: '1024Ti', gpu: maxExtended } }).resources,
    { cpuMilli: maxCpuMilli, memoryMiB: maxMemoryMiB, extended: { gpu: maxExtended } })
  assert.is(one({ image: 'x', resources: { cpu: `${maxCpuMilli}m` } }).resources.cpuMilli, maxCpuMilli)
})

const tooMuch: Array<{ name: string; resources: Record<string, unknown>; path: string; message: RegExp }> = [
  { name: 'memory of 1e308 MiB', resources: { memory: 1e308 }, path: 'memory', message: /at most 1 PiB/ },
  { name: 'memory one MiB over 1 PiB', resources: { memory: maxMemoryMiB + 1 }, path: 'memory', message: /at most 1 PiB/ },
  { name: 'memory of 1025Ti', resources: { memory: '1025Ti' }, path: 'memory', message: /at most 1 PiB/ },
  { name: 'cpu one millicore over 1024 cores', resources: { cpu: `${maxCpuMilli + 1}m` }, path: 'cpu', message: /at most 1024 cores/ },
  { name: 'cpu of 1e30 millicores', resources: { cpu: `1${'0'.repeat(30)}m` }, path: 'cpu', message: /at most 1024 cores/ },
  { name: 'cpu of 1e308 cores', resources: { cpu: 1e308 }, path: 'cpu', message: /more than any host has/ },
  { name: 'an extended resource of 1e30', resources: { disk: 1e30 }, path: 'disk', message: /from 0 to 1000000/ },
  { name: 'an extended resource one over a million', resources: { gpu: maxExtended + 1 }, path: 'gpu', message: /from 0 to 1000000/ },
]
for (const { name, resources, path, message } of tooMuch) {
  Limits(`${name} is refused at resources.${path}`, () => {
    const found = errors(web({ resources }))
    assert.equal(found.map((e) => e.path), [`services.web.resources.${path}`])
    assert.match(found[0]!.message, message)
  })
}

Limits('more extended resources than an advert carries for one task are refused', () => {
  const many = Object.fromEntries(Array.from({ length: SPEC_LIMITS.maxExtendedResources + 1 }, (_, i) => [`r${i}`, 1]))
  assert.equal(paths(web({ resources: many })), ['services.web.resources'])
  one({ image: 'x', resources: { ...Object.fromEntries(Object.entries(many).slice(1)), cpu: 1, memory: 1 } })
})

// Every string is bounded, not only names; a long value is echoed only in part.
const LONG = 'x'.repeat(100_000)
const longStrings: Array<{ name: string; body: Record<string, unknown>; path: string }> = [
  { name: 'an env value', body: { env: { A: LONG } }, path: 'services.web.env.A' },
  { name: 'an env value in the list form', body: { env: [`A=${LONG}`] }, path: 'services.web.env[0]' },
  { name: 'an env name', body: { env: { [`A${LONG}`]: '1' } }, path: 'services.web.env["Axxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… (100001 characters)]' },
  { name: 'a label value', body: { labels: { tier: LONG } }, path: 'services.web.labels.tier' },
  { name: 'a label key', body: { labels: { [LONG]: 'x' } }, path: 'services.web.labels["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… (100000 characters)]' },
  { name: 'a command argument', body: { command: ['run', LONG] }, path: 'services.web.command[1]' },
  { name: 'a command string', body: { command: `run ${LONG}` }, path: 'services.web.command' },
  { name: 'a healthcheck argument', body: { healthcheck: { command: ['check', LONG] } }, path: 'services.web.healthcheck.command[1]' },
  { name: 'the image', body: { image: LONG }, path: 'services.web.image' },
  { name: 'spreadBy', body: { spreadBy: LONG }, path: 'services.web.spreadBy' },
  { name: 'a constraint value', body: { constraints: [`zone == ${LONG}`] }, path: 'services.web.constraints[0]' },
  { name: 'a constraint object value', body: { constraints: [{ label: 'zone', op: '==', value: LONG }] }, path: 'services.web.constraints[0].value' },
  { name: 'a constraint pattern', body: { constraints: [`host matches ${LONG}`] }, path: 'services.web.constraints[0]' },
  { name: 'a constraint label', body: { constraints: [`${LONG} exists`] }, path: 'services.web.constraints[0]' },
  { name: 'an unparseable constraint', body: { constraints: [`zone ~ ${LONG}`] }, path: 'services.web.constraints[0]' },
  { name: 'an unknown field', body: { [LONG]: 1 }, path: 'services.web["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… (100000 characters)]' },
]
for (const { name, body, path } of longStrings) {
  Limits(`a 100,000-character ${name} is refused at ${path.length > 60 ? `${path.slice(0, 60)}…` : path}, echoed in part`, () => {
    const found = errors(web(body))
    assert.ok(found.some((e) => e.path === path), JSON.stringify(found.map((e) => e.path)))
    for (const error of found) assert.ok(error.message.length + error.path.length < 400, `${error.path}: ${error.message.slice(0, 500)}`)
  })
}

Limits('a service key of 100,000 characters is named in part', () => {
  const found = errors({ services: { [LONG]: { image: 'x' } } })
  assert.equal(found.map((e) => e.path), ['services["xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"… (100000 characters)].name'])
})

Limits('strings just within their limits are accepted', () => {
  const value = 'v'.repeat(SPEC_LIMITS.maxStringLength)
  const key = `K${'k'.repeat(SPEC_LIMITS.maxKeyLength - 1)}`
  const spec = one({
    image: 'i'.repeat(SPEC_LIMITS.maxImageLength), command: ['run', value], env: { [key]: value }, labels: { [key]: value }, spreadBy: key,
    constraints: [`${key} == ${'c'.repeat(SPEC_LIMITS.maxConstraintValueLength)}`],
  })
  assert.is(spec.env[key], value)
  assert.equal(paths(web({ image: 'i'.repeat(SPEC_LIMITS.maxImageLength + 1) })), ['services.web.image'])
  assert.equal(paths(web({ env: { [`${key}K`]: '1' } })).length, 1)
  assert.equal(paths(web({ constraints: [`zone == ${'c'.repeat(SPEC_LIMITS.maxConstraintValueLength + 1)}`] })), ['services.web.constraints[0]'])
})

Limits('lists are bounded: command arguments, env list entries, constraint values', () => {
  const args = Array.from({ length: SPEC_LIMITS.maxCommandArgs + 1 }, () => 'a')
  assert.equal(paths(web({ command: args })), ['services.web.command'])
  assert.equal(paths(web({ command: args.join(' ') })), ['services.web.command'])
  assert.equal(paths(web({ env: Array.from({ length: SPEC_LIMITS.maxEnvEntries + 1 }, (_, i) => `A${i}=1`) })), ['services.web.env'])
  const values = Array.from({ length: SPEC_LIMITS.maxConstraintValues + 1 }, (_, i) => `v${i}`)
  assert.equal(paths(web({ constraints: [`zone in (${values.join(', ')})`] })), ['services.web.constraints[0]'])
  assert.equal(paths(web({ constraints: [{ label: 'zone', op: 'in', values }] })), ['services.web.constraints[0].values'])
})

Limits('a NUL character, which no command line or environment carries, is refused in values', () => {
  assert.equal(paths(web({ env: { A: 'a\u0000b' } })), ['services.web.env.A'])
  assert.equal(paths(web({ command: ['run', 'a\u0000b'] })), ['services.web.command[1]'])
  assert.equal(paths(web({ labels: { a: '\u0000' } })), ['services.web.labels.a'])
  assert.equal(paths({ services: { web: { image: 'nginx\u0000' } } }), ['services.web.image'])
})

// Keys: env names are environment variable names; label keys and spreadBy follow the label key rule
// that constraints and peer labels use (limits.ts LABEL_KEY).
const badKeys: Array<{ name: string; body: Record<string, unknown>; path: string; message: RegExp }> = [
  { name: 'an env name with a space', body: { env: { 'A B': '1' } }, path: 'services.web.env["A B"]', message: /environment variable name/ },
  { name: 'an env name starting with a digit', body: { env: { '1A': '1' } }, path: 'services.web.env.1A', message: /environment variable name/ },
  { name: 'an empty env name', body: { env: { '': '1' } }, path: 'services.web.env[""]', message: /environment variable name/ },
  { name: 'an env name with "/"', body: { env: { 'A/B': '1' } }, path: 'services.web.env.A/B', message: /environment variable name/ },
  { name: 'an env name with "=" in the list form', body: { env: ['A B=1'] }, path: 'services.web.env[0]', message: /environment variable name/ },
  { name: 'an env name "__proto__"', body: { env: JSON.parse('{"__proto__": "x"}') }, path: 'services.web.env.__proto__', message: /environment variable name/ },
  { name: 'an empty label key', body: { labels: { '': 'x' } }, path: 'services.web.labels[""]', message: /label key/ },
  { name: 'a label key with a space', body: { labels: { 'a b': 'x' } }, path: 'services.web.labels["a b"]', message: /label key/ },
  { name: 'a label key with "!"', body: { labels: { 'a!': 'x' } }, path: 'services.web.labels["a!"]', message: /label key/ },
  { name: 'a label key with a newline', body: { labels: { 'a\nb': 'x' } }, path: 'services.web.labels["a\\nb"]', message: /label key/ },
  { name: 'a spreadBy with a space', body: { spreadBy: 'zone a' }, path: 'services.web.spreadBy', message: /label key/ },
  { name: 'a spreadBy with "!"', body: { spreadBy: 'zone!' }, path: 'services.web.spreadBy', message: /label key/ },
  { name: 'a spreadBy starting with "-"', body: { spreadBy: '-zone' }, path: 'services.web.spreadBy', message: /label key/ },
]
for (const { name, body, path, message } of badKeys) {
  Limits(`${name} is refused at ${path}`, () => {
    const found = errors(web(body))
    assert.equal(found.map((e) => e.path), [path])
    assert.match(found[0]!.message, message)
  })
}

Limits('keys that follow the rules are accepted', () => {
  const spec = one({ image: 'x', env: { _A1: '1', path: '2' }, labels: { 'topology.kubernetes.io/zone': 'a', '0tier_x-y': 'b' }, spreadBy: 'topology.kubernetes.io/zone' })
  assert.equal(Object.keys(spec.env), ['_A1', 'path'])
  assert.is(spec.spreadBy, 'topology.kubernetes.io/zone')
})

// Unknown nested fields, wrong value types and operator typos in constraints and ports.
const nested: Array<{ name: string; body: Record<string, unknown>; paths: string[]; message?: RegExp }> = [
  { name: 'healthcheck.bogus', body: { healthcheck: { command: 'true', bogus: 1 } }, paths: ['services.web.healthcheck.bogus'], message: /unknown field/ },
  { name: 'an extra field in a constraint object', body: { constraints: [{ label: 'zone', op: '==', value: 'eu', extra: 1 }] }, paths: ['services.web.constraints[0].extra'], message: /unknown field/ },
  { name: 'a numeric constraint value', body: { constraints: [{ label: 'zone', op: '==', value: 5 }] }, paths: ['services.web.constraints[0].value'], message: /expected a string \(quote numbers/ },
  { name: 'a numeric value in a constraint list', body: { constraints: [{ label: 'zone', op: 'in', values: ['a', 5] }] }, paths: ['services.web.constraints[0].values'], message: /list of strings/ },
  { name: 'both value and values', body: { constraints: [{ label: 'zone', op: 'in', value: 'a', values: ['b'] }] }, paths: ['services.web.constraints[0]'], message: /not both/ },
  { name: '"zone ==="', body: { constraints: ['zone ==='] }, paths: ['services.web.constraints[0]'], message: /holds an operator/ },
  { name: '"zone !== eu"', body: { constraints: ['zone !== eu'] }, paths: ['services.web.constraints[0]'], message: /holds an operator/ },
  { name: 'two comparisons in one constraint', body: { constraints: ['zone == eu, arch != arm'] }, paths: ['services.web.constraints[0]'], message: /one comparison per constraint/ },
  { name: 'an extra field in a port object', body: { ports: [{ host: 80, container: 8080, extra: true }] }, paths: ['services.web.ports[0].extra'], message: /unknown field/ },
]
for (const { name, body, paths: expected, message } of nested) {
  Limits(`${name} is refused at ${expected.join(', ')}`, () => {
    const found = errors(web(body))
    assert.equal(found.map((e) => e.path), expected)
    if (message) assert.match(found[0]!.message, message)
  })
}

Limits('an error path is always one line, whatever the key holds', () => {
  const found = errors(web({ env: { 'a\nb': '1', 'c\rd': '2' }, labels: { '\u2028': 'x' }, 'x\ny': 1 }))
  assert.is(found.length, 4)
  for (const error of found) assert.not.match(error.path, /[\n\r\u2028\u2029]/)
})

Limits.run()

// ---------------------------------------------------------------------------------------------------

const Identity = suite('specHash and specDigest')

const base = { image: 'nginx:1.27', env: { A: '1' }, resources: { cpu: '250m', memory: '128Mi' }, ports: ['8080:80'], replicas: 3 }
const baseSpec = one(base)

const keepsHash: Array<{ name: string; change: Record<string, unknown> }> = [
  { name: 'scaling replicas', change: { replicas: 7 } },
  { name: 'adding a constraint', change: { constraints: ['zone == eu'] } },
  { name: 'changing the restart policy', change: { restart: { condition: 'on-failure', delay: '5s' } } },
  { name: 'changing the update policy', change: { update: { parallelism: 4, order: 'start-first' } } },
  { name: 'changing maxPerNode', change: { maxPerNode: 2 } },
  { name: 'changing the strategy', change: { strategy: 'binpack' } },
  { name: 'adding spreadBy', change: { spreadBy: 'zone' } },
]
for (const { name, change } of keepsHash) {
  Identity(`${name} keeps the specHash (running tasks are not replaced) but changes the specDigest`, () => {
    const changed = one({ ...base, ...change })
    assert.is(specHash(changed), specHash(baseSpec))
    assert.is.not(specDigest(changed), specDigest(baseSpec))
  })
}

const changesHash: Array<{ name: string; change: Record<string, unknown> }> = [
  { name: 'a new image', change: { image: 'nginx:1.28' } },
  { name: 'a changed env value', change: { env: { A: '2' } } },
  { name: 'an added env entry', change: { env: { A: '1', B: '1' } } },
  { name: 'more cpu', change: { resources: { cpu: '500m', memory: '128Mi' } } },
  { name: 'more memory', change: { resources: { cpu: '250m', memory: '256Mi' } } },
  { name: 'an extended resource', change: { resources: { cpu: '250m', memory: '128Mi', gpu: 1 } } },
  { name: 'a command', change: { command: 'nginx -g daemon-off' } },
  { name: 'a different port', change: { ports: ['8081:80'] } },
  { name: 'a healthcheck', change: { healthcheck: { command: 'curl -f localhost' } } },
]
for (const { name, change } of changesHash) {
  Identity(`${name} changes the specHash (tasks must be replaced)`, () => {
    const changed = one({ ...base, ...change })
    assert.is.not(specHash(changed), specHash(baseSpec))
    assert.is.not(specDigest(changed), specDigest(baseSpec))
  })
}

Identity('specHash names the service: two services with the same body have different hashes', () => {
  const [a, b] = services({ services: { a: { image: 'nginx' }, b: { image: 'nginx' } } })
  assert.is.not(specHash(a!), specHash(b!))
})

Identity('specHash and specDigest are 16 hex digits and deterministic', () => {
  assert.match(specHash(baseSpec), /^[0-9a-f]{16}$/)
  assert.match(specDigest(baseSpec), /^[0-9a-f]{16}$/)
  assert.is(specHash(one(base)), specHash(baseSpec))
  assert.is(specDigest(one(base)), specDigest(baseSpec))
})

Identity('a spec written with every default explicit has the same specHash and specDigest as one without', () => {
  const implicit = one({ image: 'nginx' })
  const explicit = one({
    name: 'web', driver: 'docker', image: 'nginx', command: [], env: {}, mode: 'replicated', replicas: 1,
    resources: { cpu: '100m', memory: '64Mi' }, constraints: [], maxPerNode: 0, strategy: 'spread', spreadBy: '',
    ports: [], healthcheck: null,
    restart: { condition: 'always', delay: '1s', maxDelay: '1m', maxAttempts: 5, window: '2m' },
    update: { parallelism: 1, delay: '0s', order: 'stop-first', autoRollback: false, healthDeadline: '1m' },
    labels: {},
  })
  assert.equal(explicit, implicit)
  assert.is(specHash(explicit), specHash(implicit))
  assert.is(specDigest(explicit), specDigest(implicit))
})

Identity('a job written with its default restart policy explicit matches one without', () => {
  const implicit = one({ image: 'migrate', mode: 'job' })
  const explicit = one({ image: 'migrate', mode: 'job', restart: { condition: 'on-failure', delay: 1000, maxDelay: 60_000, maxAttempts: 5, window: 120_000 } })
  assert.is(specDigest(explicit), specDigest(implicit))
})

Identity('a healthcheck written with its default timing explicit matches one without', () => {
  const implicit = one({ image: 'nginx', healthcheck: { command: 'true' } })
  const explicit = one({ image: 'nginx', healthcheck: { command: ['true'], interval: '10s', timeout: '5s', retries: 3, startPeriod: 0 } })
  assert.is(specHash(explicit), specHash(implicit))
  assert.is(specDigest(explicit), specDigest(implicit))
})

const equivalentForms: Array<{ name: string; a: Record<string, unknown>; b: Record<string, unknown> }> = [
  { name: 'env in a different key order', a: { env: { A: '1', B: '2' } }, b: { env: { B: '2', A: '1' } } },
  { name: 'env as a map and as a KEY=value list', a: { env: { A: '1', B: '2' } }, b: { env: ['A=1', 'B=2'] } },
  { name: 'env values as numbers and as strings', a: { env: { PORT: 80 } }, b: { env: { PORT: '80' } } },
  { name: 'cpu as cores and as millicores', a: { resources: { cpu: 0.5 } }, b: { resources: { cpu: '500m' } } },
  { name: 'memory as "1Gi" and as MiB', a: { resources: { memory: '1Gi' } }, b: { resources: { memory: 1024 } } },
  { name: 'a zero extended resource and none', a: { resources: { gpu: 0 } }, b: {} },
  { name: 'a short and a full port', a: { ports: ['8080'] }, b: { ports: [{ host: 8080, container: 8080, protocol: 'tcp' }] } },
  { name: 'a command as a string and as a list', a: { command: 'nginx -g x' }, b: { command: ['nginx', '-g', 'x'] } },
  { name: 'a duration as text and as milliseconds', a: { update: { delay: '1m30s' } }, b: { update: { delay: 90_000 } } },
  { name: 'a constraint as a string and as an object', a: { constraints: ['zone == eu'] }, b: { constraints: [{ label: 'zone', op: '==', value: 'eu' }] } },
]
for (const { name, a, b } of equivalentForms) {
  Identity(`${name} give the same specHash and specDigest`, () => {
    const specA = one({ image: 'nginx', ...a })
    const specB = one({ image: 'nginx', ...b })
    assert.is(specHash(specA), specHash(specB))
    assert.is(specDigest(specA), specDigest(specB))
  })
}

Identity.run()
