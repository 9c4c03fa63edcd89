// Service fields: image and build, commands, container settings, the fields peer ignores, unknown
// fields, names, x-peer, networks, profiles and extends, and the top-level fields.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { IGNORED_SERVICE_FIELDS } from '../../../core/compose/fields.js'
import { assertLines, checkErrors, checkMappings, line, translate, web } from './translate-one.js'

const Service = suite('service fields')

Service('image and build', () => {
  assert.equal(web({ image: 'nginx:1.25' }).service, { image: 'nginx:1.25', resources: { cpu: '0m', memory: 0 } })
  const built = web({ image: 'registry/app:1', build: { context: '.' } })
  assert.equal(built.service, { image: 'registry/app:1', resources: { cpu: '0m', memory: 0 } })
  assertLines(built.warnings, ['services.web.build: ignored: peer does not build images; it runs registry/app:1'])
  const unbuilt = translate({ services: { api: { build: '.' } } })
  assert.not.ok(unbuilt.ok)
  if (!unbuilt.ok) assertLines(unbuilt.errors.map(line), ['services.api.build: peer does not build images; build and load it (`peer image load`) and set image:'])
  const none = translate({ services: { api: { command: 'x' } } })
  assert.not.ok(none.ok)
  if (!none.ok) assertLines(none.errors.map(line), ['services.api: a service needs an image'])
})

Service('command and entrypoint', () => {
  checkMappings([
    { what: 'a list', input: { command: ['nginx', '-g', 'daemon off;'] }, output: { command: ['nginx', '-g', 'daemon off;'] } },
    { what: 'a string split like a shell', input: { command: 'sh -c "echo hello world"' }, output: { command: ['sh', '-c', 'echo hello world'] } },
    { what: 'numbers in a list', input: { command: ['sleep', 10] }, output: { command: ['sleep', '10'] } },
    { what: 'an empty command is the image\'s', input: { command: [] }, output: {} },
    { what: 'entrypoint', input: { entrypoint: '/docker-entrypoint.sh --verbose' }, output: { entrypoint: ['/docker-entrypoint.sh', '--verbose'] } },
    { what: 'an empty entrypoint clears the image\'s', input: { entrypoint: '' }, output: { entrypoint: [] } },
  ])
  checkErrors([
    { what: 'an unclosed quote', input: { command: 'echo "hi' }, errors: ['services.web.command: cannot split "echo \\"hi" into arguments: a double quote is not closed'] },
    { what: 'a map', input: { entrypoint: { a: 1 } }, errors: ['services.web.entrypoint: expected a list of arguments'] },
  ])
})

Service('container settings', () => {
  checkMappings([
    { what: 'user', input: { user: 'app:app' }, output: { user: 'app:app' } },
    { what: 'a numeric user', input: { user: 1000 }, output: { user: '1000' } },
    { what: 'working_dir', input: { working_dir: '/srv/app' }, output: { workdir: '/srv/app' } },
    { what: 'stop_grace_period', input: { stop_grace_period: '1m30s' }, output: { stopGrace: '90s' } },
    { what: 'capabilities', input: { cap_add: ['net_admin', 'CAP_SYS_TIME', 'NET_ADMIN'], cap_drop: ['ALL'] }, output: { capAdd: ['NET_ADMIN', 'SYS_TIME'], capDrop: ['ALL'] } },
    { what: 'init: true is what peer does', input: { init: true }, output: {} },
    { what: 'init: false', input: { init: false }, output: {}, warnings: ['services.web.init: ignored: peer runs every container with an init process'] },
  ])
  checkErrors([
    { what: 'a relative working_dir', input: { working_dir: 'app' }, errors: ['services.web.working_dir: "app" must be an absolute path'] },
    { what: 'a bad capability', input: { cap_add: ['net admin'] }, errors: ['services.web.cap_add[0]: "net admin" is not a capability name'] },
    { what: 'a bad grace period', input: { stop_grace_period: '10' }, errors: ['services.web.stop_grace_period: expected a duration'] },
  ])
})

Service('every field peer has nothing for gives exactly one warning saying why', () => {
  for (const [field, reason] of Object.entries(IGNORED_SERVICE_FIELDS)) {
    const { service, warnings } = web({ image: 'nginx', [field]: field === 'depends_on' ? ['db'] : 'x' })
    assert.equal(service, { image: 'nginx', resources: { cpu: '0m', memory: 0 } }, field)
    assert.equal(warnings, [`services.web.${field}: ignored: ${reason}`], field)
  }
})

Service('an unknown field is an error, with the closest field when there is one', () => {
  checkErrors([
    { what: 'a typo', input: { enviroment: { A: '1' } }, errors: ['services.web.enviroment: unknown field: not in the compose specification; did you mean environment?'] },
    { what: 'a peer field', input: { replicas: 2 }, errors: ['services.web.replicas: unknown field'] },
    { what: 'nothing close', input: { frobnicate: true }, errors: ['services.web.frobnicate: unknown field: not in the compose specification'] },
  ])
  assert.equal(web({ image: 'nginx', 'x-anything': { a: 1 } }).service, { image: 'nginx', resources: { cpu: '0m', memory: 0 } })
})

Service('service names must be DNS labels; others are refused with a suggestion', () => {
  const result = translate({ services: { my_db: { image: 'postgres' }, Web: { image: 'nginx' }, 'a.b': { image: 'x' }, ok: { image: 'x' } } })
  assert.not.ok(result.ok)
  if (result.ok) return
  assertLines(result.errors.map(line), [
    'services.my_db: a peer service name is a DNS label: lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit; rename it, e.g. to "my-db"',
    'services.Web: a peer service name is a DNS label', 'e.g. to "a-b"',
  ])
  assert.ok(result.errors.some((e) => e.message.includes('e.g. to "web"')))
})

Service('x-peer fields merge over the translation', () => {
  checkMappings([
    { what: 'strategy and spreadBy', input: { 'x-peer': { strategy: 'binpack', maxPerNode: 1 } }, output: { strategy: 'binpack', maxPerNode: 1 } },
    { what: 'maps merge', input: { environment: { A: '1' }, 'x-peer': { env: { B: '2' }, resources: { gpu: 1 } }, deploy: { resources: { limits: { memory: '1g' } } } }, output: { env: { A: '1', B: '2' }, resources: { cpu: '0m', memory: 1024, gpu: 1 } } },
    { what: 'a process driver needs no image', input: { 'x-peer': { driver: 'process' } }, output: { driver: 'process' } },
  ])
  checkErrors([
    { what: 'an unknown peer field', input: { 'x-peer': { replica: 2 } }, errors: ['services.web.x-peer.replica: not a peer service field'] },
    { what: 'not a map', input: { 'x-peer': 'binpack' }, errors: ['services.web.x-peer: expected a map of peer service fields'] },
  ])
  const process = translate({ services: { job: { command: ['sleep', '1'], 'x-peer': { driver: 'process' } } } })
  assert.ok(process.ok)
  if (process.ok) assert.equal(process.services, [{ name: 'job', command: ['sleep', '1'], resources: { cpu: '0m', memory: 0 }, driver: 'process' }])
})

Service('networks: declared ones are warned about once; undeclared ones are errors', () => {
  const result = translate({ services: { web: { image: 'a', networks: ['front', 'default'] }, api: { image: 'b', networks: { front: { aliases: ['x'] } } } }, networks: { front: {} } })
  assert.ok(result.ok)
  if (result.ok) assertLines(result.warnings.map(line), ['networks.front: ignored: peer has no overlay networks yet'])
  checkErrors([{ what: 'undeclared', input: { networks: ['back'] }, errors: ['services.web.networks.back: undefined network "back"'] }])
})

const Project = suite('project: profiles, extends, top-level fields')

Project('profiles: services with profiles run only when one is active', () => {
  const document = { services: { web: { image: 'a' }, debug: { image: 'b', profiles: ['debug'] }, tools: { image: 'c', profiles: ['tools', 'debug'] } } }
  const names = (profiles: string[]) => {
    const result = translate(document, { profiles })
    return result.ok ? result.services.map((s) => s.name) : result.errors.map(line)
  }
  assert.equal(names([]), ['web'])
  assert.equal(names(['tools']), ['web', 'tools'])
  assert.equal(names(['debug']), ['web', 'debug', 'tools'])
  assert.equal(names(['*']), ['web', 'debug', 'tools'])
  const none = translate({ services: { debug: { image: 'b', profiles: ['debug'] } } })
  assert.not.ok(none.ok)
  if (!none.ok) assert.equal(none.errors.map(line), ['services: no service is enabled by the active profiles (none)'])
})

Project('extends within the file merges the base under the service', () => {
  const result = translate({
    services: {
      base: { image: 'app', environment: { A: '1', B: '1' }, ports: ['80:80'], deploy: { replicas: 2 } },
      web: { extends: 'base', environment: { B: '2' }, command: ['serve'] },
      worker: { extends: { service: 'web' }, deploy: { replicas: 5 } },
    },
  })
  assert.ok(result.ok)
  if (!result.ok) return
  const byName = Object.fromEntries(result.services.map((s) => [s.name, s]))
  assert.equal(byName.web, { name: 'web', image: 'app', command: ['serve'], env: { A: '1', B: '2' }, replicas: 2, resources: { cpu: '0m', memory: 0 }, ports: [{ host: 80, container: 80, protocol: 'tcp', mode: 'ingress' }] })
  assert.equal(byName.worker!.replicas, 5)
  assert.equal(byName.worker!.env, { A: '1', B: '2' })
})

Project('extends problems are errors', () => {
  const errors = (services: Record<string, unknown>) => {
    const result = translate({ services })
    return result.ok ? [] : result.errors.map(line)
  }
  assertLines(errors({ web: { image: 'a', extends: 'nope' } }), ['services.web.extends: no service "nope" in this file to extend'])
  assertLines(errors({ a: { image: 'a', extends: 'b' }, b: { image: 'b', extends: 'a' } }), ['services.b.extends: extends itself: a → b → a'])
  assertLines(errors({ web: { image: 'a', extends: { service: 'base', file: 'common.yml' } } }), ['services.web.extends.file: extending a service of another file is not supported'])
})

Project('top-level fields', () => {
  const named = translate({ version: '3.8', name: 'shop', services: { web: { image: 'a' } } })
  assert.ok(named.ok)
  if (named.ok) assertLines(named.warnings.map(line), ['name: ignored: peer does not prefix services with a project name'])
  const included = translate({ include: ['other.yml'], services: { web: { image: 'a' } } })
  assert.not.ok(included.ok)
  if (!included.ok) assertLines(included.errors.map(line), ['include: include is not supported: give the included files with -f instead'])
  const unknown = translate({ servics: {}, services: { web: { image: 'a' } } })
  assert.not.ok(unknown.ok)
  if (!unknown.ok) assertLines(unknown.errors.map(line), ['servics: unknown field'])
  const empty = translate({ version: '3' })
  assert.not.ok(empty.ok)
  if (!empty.ok) assertLines(empty.errors.map(line), ['services: no services defined'])
  const notMap = translate(['services'])
  assert.not.ok(notMap.ok)
})

Service.run()
Project.run()
