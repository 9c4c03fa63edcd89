// Telling compose files from peer's own format (docs/compose.md#detection).

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { documentFormat, looksLikeCompose } from '../../../core/index.js'

const Detect = suite('looksLikeCompose')

const COMPOSE: ReadonlyArray<readonly [what: string, document: unknown]> = [
  ['environment', { services: { web: { image: 'nginx', environment: { A: '1' } } } }],
  ['deploy', { services: { web: { image: 'nginx', deploy: { replicas: 2 } } } }],
  ['build', { services: { web: { build: '.' } } }],
  ['volumes in a service', { services: { web: { image: 'nginx', volumes: ['./a:/a'] } } }],
  ['depends_on', { services: { web: { image: 'nginx', depends_on: ['db'] } } }],
  ['container_name', { services: { web: { image: 'nginx', container_name: 'web' } } }],
  ['restart as a string', { services: { web: { image: 'nginx', restart: 'always' } } }],
  ['a healthcheck with test', { services: { web: { image: 'nginx', healthcheck: { test: ['CMD', 'true'] } } } }],
  ['a long-form port', { services: { web: { image: 'nginx', ports: [{ target: 80, published: 8080 }] } } }],
  ['top-level networks', { services: { web: { image: 'nginx' } }, networks: { front: {} } }],
  ['top-level volumes only (an override file)', { volumes: { data: {} } }],
  ['top-level name', { name: 'app', services: { web: { image: 'nginx' } } }],
  ['top-level x- fields', { 'x-common': {}, services: { web: { image: 'nginx' } } }],
  ['version with shared fields only', { version: '3.8', services: { web: { image: 'nginx', ports: ['80:80'] } } }],
  ['${VAR} with shared fields only', { services: { web: { image: 'nginx:${TAG}' } } }],
  ['more compose votes than native ones', { services: { web: { image: 'nginx', environment: {}, deploy: {}, replicas: 2 } } }],
]

const NATIVE: ReadonlyArray<readonly [what: string, document: unknown]> = [
  ['a typo at the top of a peer file (an unknown top-level field decides nothing)', { timeOut: 5, services: { web: { image: 'nginx', env: { A: '1' }, replicas: 2 } } }],
  ['shared fields only, no version', { services: { web: { image: 'nginx', command: 'httpd -f', ports: ['80:80'], labels: { a: 'b' } } } }],
  ['env', { services: { web: { image: 'nginx', env: { A: '1' } } } }],
  ['resources', { services: { web: { image: 'nginx', resources: { cpu: 1 } } } }],
  ['replicas and mode', { version: '1', services: { web: { image: 'nginx', replicas: 2, mode: 'replicated' } } }],
  ['restart as a map', { services: { web: { image: 'nginx', restart: { condition: 'always' } } } }],
  ['a healthcheck with command', { services: { web: { image: 'nginx', healthcheck: { command: 'true' } } } }],
  ['a port with host', { services: { web: { image: 'nginx', ports: [{ host: 80, container: 80 }] } } }],
  ['services as a list', { services: [{ name: 'web', image: 'nginx' }] }],
  ['a single service', { name: 'web', image: 'nginx' }],
  ['a list of services', [{ name: 'web', image: 'nginx' }]],
  ['a tie', { services: { web: { image: 'nginx', environment: {}, env: {} } } }],
  ['not a map', 'services'],
  ['null', null],
]

Detect('compose files are recognised', () => {
  for (const [what, document] of COMPOSE) assert.ok(looksLikeCompose(document), what)
})

Detect('peer\'s own format is not taken for compose', () => {
  for (const [what, document] of NATIVE) assert.not.ok(looksLikeCompose(document), what)
})

Detect('a document of shared fields only, without version or ${, is undecided', () => {
  assert.is(documentFormat({ services: { web: { image: 'nginx:1.25' } } }), 'undecided')
  assert.is(documentFormat({ version: '3', services: { web: { image: 'nginx:1.25' } } }), 'compose')
  assert.is(documentFormat({ services: { web: { image: 'nginx', env: {} } } }), 'peer')
})

Detect.run()
