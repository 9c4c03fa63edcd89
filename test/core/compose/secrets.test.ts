// Secrets and configs: service references and the top-level declarations reported for creation.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { checkErrors, checkMappings, translate } from './translate-one.js'

const SECRETS = { secrets: { db_password: { file: './secrets/db.txt' }, api_key: { external: true } } }
const CONFIGS = { configs: { nginx_conf: { file: '/etc/app/nginx.conf' }, shared: { external: true, name: 'shared-conf' } } }

const UNUSED_API_KEY = 'secrets.api_key: ignored: no service uses this secret, so it is not created'

const Secrets = suite('secrets and configs')

Secrets('service references', () => {
  checkMappings([
    { what: 'short secrets', input: { secrets: ['db_password', 'api_key'] }, output: { secrets: ['db_password', 'api_key'] }, top: SECRETS },
    { what: 'a secret with a target', input: { secrets: [{ source: 'db_password', target: 'password' }] }, output: { secrets: [{ name: 'db_password', target: 'password' }] }, top: SECRETS, warnings: [UNUSED_API_KEY] },
    { what: 'an absolute target', input: { secrets: [{ source: 'api_key', target: '/etc/key' }] }, output: { secrets: [{ name: 'api_key', target: '/etc/key' }] }, top: SECRETS, warnings: ['secrets.db_password: ignored'] },
    {
      what: 'a secret with name: keeps its key as the file name',
      input: { secrets: ['db'] },
      output: { secrets: [{ name: 'prod-db-password', target: 'db' }] },
      top: { secrets: { db: { file: './db.txt', name: 'prod-db-password' } } },
    },
    {
      what: 'uid, gid and mode',
      input: { secrets: [{ source: 'db_password', uid: '1000', gid: '1000', mode: 0o400 }] },
      output: { secrets: ['db_password'] },
      top: SECRETS,
      warnings: ['services.web.secrets[0].uid: ignored: peer sets no owner or mode on secret files (uid, gid, mode)', UNUSED_API_KEY],
    },
    { what: 'a config at /<key>', input: { configs: ['nginx_conf'] }, output: { secrets: [{ name: 'nginx_conf', target: '/nginx_conf' }] }, top: CONFIGS, warnings: ['configs.shared: ignored'] },
    {
      what: 'a config with a target, and one with a name:',
      input: { configs: [{ source: 'nginx_conf', target: '/etc/nginx/nginx.conf' }, { source: 'shared', target: 'app.conf' }] },
      output: { secrets: [{ name: 'nginx_conf', target: '/etc/nginx/nginx.conf' }, { name: 'shared-conf', target: '/app.conf' }] },
      top: CONFIGS,
    },
    {
      what: 'secrets and configs together',
      input: { secrets: ['api_key'], configs: ['nginx_conf'] },
      output: { secrets: ['api_key', { name: 'nginx_conf', target: '/nginx_conf' }] },
      top: { ...SECRETS, ...CONFIGS },
      warnings: ['secrets.db_password: ignored: no service uses this secret, so it is not created', 'configs.shared: ignored: no service uses this config'],
    },
  ])
  checkErrors([
    { what: 'an undeclared secret', input: { secrets: ['nope'] }, errors: ['services.web.secrets[0]: undefined secret "nope": declare it under the top-level secrets:'] },
    { what: 'an undeclared config', input: { configs: [{ source: 'nope' }] }, errors: ['services.web.configs[0]: undefined config "nope"'] },
    { what: 'a long form without source', input: { secrets: [{ target: 'x' }] }, errors: ['services.web.secrets[0].source: expected the name of a top-level secret'] },
  ])
})

Secrets('declarations used by a service are reported for the CLI to create', () => {
  const result = translate({
    services: { web: { image: 'nginx', secrets: ['db_password', 'api_key'], configs: ['nginx_conf'] } },
    ...SECRETS,
    configs: { nginx_conf: { file: '~/conf/nginx.conf' } },
  }, { environment: { HOME: '/home/me' } })
  assert.ok(result.ok)
  if (!result.ok) return
  assert.equal(result.secrets, [
    { name: 'db_password', kind: 'secret', file: '/project/secrets/db.txt', external: false, declaredAt: 'secrets.db_password', sourceFile: 'compose.yaml' },
    { name: 'api_key', kind: 'secret', external: true, declaredAt: 'secrets.api_key', sourceFile: 'compose.yaml' },
    { name: 'nginx_conf', kind: 'config', file: '/home/me/conf/nginx.conf', external: false, declaredAt: 'configs.nginx_conf', sourceFile: 'compose.yaml' },
  ])
})

Secrets('declarations peer cannot create are errors with a way out', () => {
  const uses = { secrets: ['s'] }
  checkErrors([
    { what: 'environment source', input: uses, top: { secrets: { s: { environment: 'TOKEN' } } }, errors: ['secrets.s.environment: peer creates secrets from files'] },
    { what: 'config content', input: { configs: ['c'] }, top: { configs: { c: { content: 'x=1' } } }, errors: ['configs.c.content: peer creates configs from files'] },
    { what: 'a driver', input: uses, top: { secrets: { s: { driver: 'vault' } } }, errors: ['secrets.s.driver: peer has no secret drivers'] },
    { what: 'neither file nor external', input: uses, top: { secrets: { s: {} } }, errors: ['secrets.s: expected file: (created on apply) or external: true'] },
    { what: 'external with a file', input: uses, top: { secrets: { s: { external: true, file: './s' } } }, errors: ['secrets.s.file: an external secret already exists'] },
    { what: 'a name peer cannot take', input: uses, top: { secrets: { s: { file: './s', name: '-bad' } } }, errors: ['secrets.s.name: "-bad" cannot name a peer secret'] },
    {
      what: 'one name, two sources',
      input: { secrets: ['a', 'b'] },
      top: { secrets: { a: { file: './a', name: 'same' }, b: { file: './b', name: 'same' } } },
      errors: ['secrets.b: names the same peer secret "same" as secrets.a, with another source'],
    },
  ])
  checkMappings([
    { what: 'labels and template_driver', input: uses, output: { secrets: ['s'] }, top: { secrets: { s: { file: './s', labels: { a: 'b' }, template_driver: 'golang' } } }, warnings: ['secrets.s.labels: ignored', 'secrets.s.template_driver: ignored'] },
  ])
})

Secrets.run()
