// The worked example of docs/compose.md, translated as the document says.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parse } from 'yaml'
import { translateCompose } from '../../../core/index.js'
import { line } from './translate-one.js'

const FILE = `
version: "3.8"
services:
  web:
    image: registry.local/shop:\${TAG:-latest}
    command: ["gunicorn", "-b", "0.0.0.0:8000", "shop.wsgi"]
    environment:
      DATABASE_URL: postgres://shop@db/shop
      DEBUG:
    env_file: .env.web
    ports: ["80:8000"]
    volumes: ["./media:/srv/media"]
    secrets: [db_password]
    healthcheck:
      test: curl -f http://localhost:8000/health
      interval: 10s
    deploy:
      replicas: 3
      resources:
        limits: { cpus: "1", memory: 512M }
      placement:
        constraints: ["node.labels.zone == eu"]
      update_config: { parallelism: 1, order: start-first, failure_action: rollback }
    depends_on: [db]
secrets:
  db_password: { file: ./secrets/db_password.txt }
`

const Example = suite('the example of docs/compose.md')

Example('translates as documented', () => {
  const result = translateCompose([{ file: 'docker-compose.yml', directory: '/srv/shop', document: parse(FILE) }], {
    environment: { TAG: '1.4' },
    profiles: [],
    readText: (path) => (path === '/srv/shop/.env.web' ? 'WORKERS=4\n' : undefined),
  })
  if (!result.ok) assert.unreachable(result.errors.map(line).join('; '))
  if (!result.ok) return
  assert.equal(result.services, [{
    name: 'web',
    image: 'registry.local/shop:1.4',
    command: ['gunicorn', '-b', '0.0.0.0:8000', 'shop.wsgi'],
    env: { WORKERS: '4', DATABASE_URL: 'postgres://shop@db/shop' },
    replicas: 3,
    resources: { cpu: '1000m', memory: 512 },
    constraints: [{ label: 'zone', op: '==', value: 'eu' }],
    ports: [{ host: 80, container: 8000, protocol: 'tcp', mode: 'ingress' }],
    healthcheck: { command: ['/bin/sh', '-c', 'curl -f http://localhost:8000/health'], interval: '10s', timeout: '30s', retries: 3, startPeriod: '0s' },
    update: { parallelism: 1, order: 'start-first', autoRollback: true },
    secrets: ['db_password'],
    mounts: [{ type: 'bind', source: '/srv/shop/media', target: '/srv/media', readOnly: false }],
  }])
  assert.equal(result.secrets, [{ name: 'db_password', kind: 'secret', file: '/srv/shop/secrets/db_password.txt', external: false, declaredAt: 'secrets.db_password', sourceFile: 'docker-compose.yml' }])
  assert.equal(result.warnings.map((w) => `${w.file}: ${line(w)}`).sort(), [
    'docker-compose.yml: services.web.depends_on: ignored: peer starts services independently and restarts failed tasks; let clients retry, or gate readiness with a healthcheck',
  ])
})

Example.run()
