// Several files merged in order as `docker compose -f a -f b` merges them, then translated.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { translateCompose } from '../../../core/index.js'
import { line, options } from './translate-one.js'

function merged(first: unknown, second: unknown): Record<string, unknown> {
  const result = translateCompose([
    { file: '/project/compose.yaml', directory: '/project', document: first },
    { file: '/project/override/compose.prod.yaml', directory: '/project/override', document: second },
  ], options())
  if (!result.ok) assert.unreachable(result.errors.map(line).join('; '))
  return result.ok ? result.services[0]! : {}
}

const Merge = suite('merging files')

Merge('maps merge key by key and later scalars win', () => {
  assert.equal(
    merged({ services: { web: { image: 'nginx:1', deploy: { replicas: 2, resources: { limits: { memory: '64M' } } } } } },
      { services: { web: { image: 'nginx:2', deploy: { resources: { limits: { cpus: '0.5' } } } } } }),
    { name: 'web', image: 'nginx:2', replicas: 2, resources: { cpu: '500m', memory: 64 } },
  )
})

Merge('command, entrypoint and healthcheck.test are replaced, not appended', () => {
  const service = merged(
    { services: { web: { image: 'a', command: ['one', 'two'], entrypoint: 'sh -c', healthcheck: { test: ['CMD', 'a'], interval: '5s' } } } },
    { services: { web: { command: ['three'], entrypoint: ['/init'], healthcheck: { test: ['CMD', 'b'] } } } },
  )
  assert.equal(service.command, ['three'])
  assert.equal(service.entrypoint, ['/init'])
  assert.equal(service.healthcheck, { command: ['b'], interval: '5s', timeout: '30s', retries: 3, startPeriod: '0s' })
})

Merge('environment and labels merge by key whether written as maps or lists, the later file winning', () => {
  const service = merged(
    { services: { web: { image: 'a', environment: { A: '1', B: '2' }, labels: ['x=1', 'y=2'] } } },
    { services: { web: { environment: ['B=3', 'C=4'], labels: { y: '3' } } } },
  )
  assert.equal(service.env, { A: '1', B: '3', C: '4' })
  assert.equal(service.labels, { x: '1', y: '3' })
})

Merge('ports are appended, a repeated one kept once', () => {
  const service = merged(
    { services: { web: { image: 'a', ports: ['8080:80/tcp', { target: 443, published: 8443, mode: 'host' }] } } },
    { services: { web: { ports: ['8080:80/tcp', '9090:90/tcp'] } } },
  )
  assert.equal(service.ports, [
    { host: 8080, container: 80, protocol: 'tcp', mode: 'ingress' },
    { host: 8443, container: 443, protocol: 'tcp' },
    { host: 9090, container: 90, protocol: 'tcp', mode: 'ingress' },
  ])
})

Merge('volumes, secrets and configs merge by target: a later entry replaces an earlier one in place', () => {
  const top = { volumes: { one: {}, two: {} }, secrets: { s1: { file: './s1' }, s2: { file: './s2' } } }
  const service = merged(
    { services: { web: { image: 'a', volumes: ['one:/data', '/host:/logs'], secrets: ['s1', { source: 's2', target: 'x' }] } }, ...top },
    { services: { web: { volumes: ['two:/data'], secrets: [{ source: 's1', target: 'x' }] } } },
  )
  assert.equal(service.mounts, [
    { type: 'volume', source: 'two', target: '/data', readOnly: false },
    { type: 'bind', source: '/host', target: '/logs', readOnly: false },
  ])
  // The later s1 took target x from s2, which no service uses any more.
  assert.equal(service.secrets, ['s1', { name: 's1', target: 'x' }])
})

Merge('relative paths in every file resolve against the first file\'s directory, as compose does', () => {
  const service = merged(
    { services: { web: { image: 'a' } } },
    { services: { web: { volumes: ['./data:/data'] } } },
  )
  assert.equal(service.mounts, [{ type: 'bind', source: '/project/data', target: '/data', readOnly: false }])
})

Merge('problems name the file that wrote the field', () => {
  const result = translateCompose([
    { file: 'a.yaml', directory: '/p', document: { services: { web: { image: 'a', hostname: 'h' } } } },
    { file: 'b.yaml', directory: '/p', document: { services: { web: { ports: ['x'] }, api: { image: 'b', tty: true } } } },
  ], options())
  assert.not.ok(result.ok)
  if (result.ok) return
  assert.equal(result.errors.map((e) => [e.file, e.path]), [['b.yaml', 'services.web.ports[0]']])
  assert.equal(result.warnings.map((w) => [w.file, w.path]), [['a.yaml', 'services.web.hostname'], ['b.yaml', 'services.api.tty']])
})

Merge('a list met by a map is an error naming the field', () => {
  const result = translateCompose([
    { file: 'a.yaml', directory: '/p', document: { services: { web: { image: 'a', ports: ['80:80'] } } } },
    { file: 'b.yaml', directory: '/p', document: { services: { web: { ports: { http: 80 } } } } },
  ], options())
  assert.not.ok(result.ok)
  if (!result.ok) assert.ok(result.errors.some((e) => e.file === 'b.yaml' && e.path === 'services.web.ports' && e.message.includes('cannot merge')))
})

Merge('a service only in the later file is added; null changes nothing', () => {
  const result = translateCompose([
    { file: 'a.yaml', directory: '/p', document: { services: { web: { image: 'a', user: 'app' } } } },
    { file: 'b.yaml', directory: '/p', document: { services: { web: { user: null }, worker: { image: 'w' } } } },
  ], options())
  assert.ok(result.ok)
  if (result.ok) assert.equal(result.services, [{ name: 'web', image: 'a', resources: { cpu: '0m', memory: 0 }, user: 'app' }, { name: 'worker', image: 'w', resources: { cpu: '0m', memory: 0 } }])
})

Merge.run()
