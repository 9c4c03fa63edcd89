// Volumes as mounts: bind, named volume, tmpfs; short and long forms; top-level declarations.

import { suite } from 'uvu'
import { checkErrors, checkMappings } from './translate-one.js'

const bind = (source: string, target: string, readOnly = false) => ({ type: 'bind', source, target, readOnly })
const volume = (source: string, target: string, readOnly = false) => ({ type: 'volume', source, target, readOnly })
const tmpfs = (target: string) => ({ type: 'tmpfs', target, readOnly: false })

const Volumes = suite('volumes')

Volumes('short form', () => {
  checkMappings([
    { what: 'a relative bind, read-only', input: { volumes: ['./data:/data:ro'] }, output: { mounts: [bind('/project/data', '/data', true)] } },
    { what: 'an absolute bind', input: { volumes: ['/var/log:/logs'] }, output: { mounts: [bind('/var/log', '/logs')] } },
    { what: 'a parent directory', input: { volumes: ['../shared/./x:/x:rw'] }, output: { mounts: [bind('/shared/x', '/x')] } },
    { what: '~ from HOME', input: { volumes: ['~/cache:/cache'] }, output: { mounts: [bind('/home/me/cache', '/cache')] }, options: { environment: { HOME: '/home/me' } } },
    { what: 'a named volume', input: { volumes: ['data:/var/lib/data'] }, output: { mounts: [volume('data', '/var/lib/data')] }, top: { volumes: { data: null } } },
    { what: 'a named volume with a name:', input: { volumes: ['data:/d'] }, output: { mounts: [volume('prod-data', '/d')] }, top: { volumes: { data: { name: 'prod-data' } } } },
    { what: 'an external volume', input: { volumes: ['data:/d'] }, output: { mounts: [volume('legacy', '/d')] }, top: { volumes: { data: { external: { name: 'legacy' } } } } },
    { what: 'an anonymous volume', input: { volumes: ['/scratch'] }, output: {}, warnings: ['services.web.volumes[0]: ignored: an anonymous volume lives and dies with one container'] },
    { what: 'options', input: { volumes: ['./a:/a:ro,z'] }, output: { mounts: [bind('/project/a', '/a', true)] }, warnings: ['services.web.volumes[0]: ignored options z'] },
    { what: 'a target cleaned', input: { volumes: ['./a:/a/b/../c/'] }, output: { mounts: [bind('/project/a', '/a/c')] } },
    {
      what: 'a named volume with replicas',
      input: { volumes: ['data:/d'], deploy: { replicas: 3 } },
      output: { replicas: 3, mounts: [volume('data', '/d')] },
      top: { volumes: { data: {} } },
      warnings: ['services.web.volumes: named volumes are per host'],
    },
    {
      what: 'a named volume, global',
      input: { volumes: ['data:/d'], deploy: { mode: 'global' } },
      output: { mode: 'global', mounts: [volume('data', '/d')] },
      top: { volumes: { data: {} } },
      warnings: ['services.web.volumes: named volumes are per host'],
    },
  ])
  checkErrors([
    { what: 'an undeclared volume', input: { volumes: ['data:/d'] }, errors: ['services.web.volumes[0]: undefined volume "data": declare it under the top-level volumes:'] },
    { what: 'a relative target', input: { volumes: ['./a:a'] }, errors: ['services.web.volumes[0]: the target "a" must be an absolute path'] },
    { what: 'too many colons', input: { volumes: ['a:b:c:d'] }, errors: ['too many colons'] },
    { what: '~ without HOME', input: { volumes: ['~/x:/x'] }, errors: ['cannot expand ~ in "~/x": HOME is not set'] },
    { what: '~user', input: { volumes: ['~alice/x:/x'] }, errors: ['only ~ and ~/… are expanded'], options: { environment: { HOME: '/h' } } },
  ])
})

Volumes('long form', () => {
  checkMappings([
    { what: 'bind', input: { volumes: [{ type: 'bind', source: './conf', target: '/etc/app', read_only: true }] }, output: { mounts: [bind('/project/conf', '/etc/app', true)] } },
    { what: 'read_only as a string', input: { volumes: [{ type: 'bind', source: '/a', target: '/a', read_only: 'true' }] }, output: { mounts: [bind('/a', '/a', true)] } },
    { what: 'volume', input: { volumes: [{ type: 'volume', source: 'db', target: '/var/lib/postgresql' }] }, output: { mounts: [volume('db', '/var/lib/postgresql')] }, top: { volumes: { db: {} } } },
    { what: 'tmpfs', input: { volumes: [{ type: 'tmpfs', target: '/run' }] }, output: { mounts: [tmpfs('/run')] } },
    { what: 'tmpfs options', input: { volumes: [{ type: 'tmpfs', target: '/run', tmpfs: { size: '64m' } }] }, output: { mounts: [tmpfs('/run')] }, warnings: ['services.web.volumes[0].tmpfs: ignored: peer mounts with no tmpfs options (size)'] },
    { what: 'volume nocopy', input: { volumes: [{ type: 'volume', source: 'db', target: '/d', volume: { nocopy: true } }] }, output: { mounts: [volume('db', '/d')] }, top: { volumes: { db: {} } }, warnings: ['volumes[0].volume: ignored'] },
    { what: 'bind propagation', input: { volumes: [{ type: 'bind', source: '/a', target: '/a', bind: { propagation: 'rshared' } }] }, output: { mounts: [bind('/a', '/a')] }, warnings: ['volumes[0].bind: ignored'] },
    { what: 'consistency', input: { volumes: [{ type: 'bind', source: '/a', target: '/a', consistency: 'cached' }] }, output: { mounts: [bind('/a', '/a')] }, warnings: ['volumes[0].consistency: ignored'] },
    { what: 'an anonymous volume', input: { volumes: [{ type: 'volume', target: '/d' }] }, output: {}, warnings: ['services.web.volumes[0]: ignored: an anonymous volume'] },
  ])
  checkErrors([
    { what: 'no type', input: { volumes: [{ source: '/a', target: '/a' }] }, errors: ['services.web.volumes[0].type: expected a type: bind, volume or tmpfs'] },
    { what: 'npipe', input: { volumes: [{ type: 'npipe', source: 'x', target: '/a' }] }, errors: ['peer mounts bind, volume and tmpfs, not "npipe"'] },
    { what: 'a tmpfs with a source', input: { volumes: [{ type: 'tmpfs', source: 'x', target: '/a' }] }, errors: ['services.web.volumes[0].source: a tmpfs mount has no source'] },
    { what: 'a bind without a source', input: { volumes: [{ type: 'bind', target: '/a' }] }, errors: ['services.web.volumes[0].source: a bind mount needs the host path'] },
    { what: 'bind options on a volume', input: { volumes: [{ type: 'volume', source: 'v', target: '/a', bind: { propagation: 'shared' } }] }, top: { volumes: { v: {} } }, errors: ['services.web.volumes[0].bind: bind options do not apply to a volume mount'] },
    { what: 'no target', input: { volumes: [{ type: 'tmpfs' }] }, errors: ['services.web.volumes[0].target: expected the path in the container'] },
  ])
})

Volumes('the service-level tmpfs list', () => {
  checkMappings([
    { what: 'one path', input: { tmpfs: '/run' }, output: { mounts: [tmpfs('/run')] } },
    { what: 'a list, options ignored', input: { tmpfs: ['/run', '/tmp:size=64m'] }, output: { mounts: [tmpfs('/run'), tmpfs('/tmp')] }, warnings: ['services.web.tmpfs[1]: ignored options size=64m'] },
  ])
})

Volumes('top-level declarations', () => {
  checkMappings([
    {
      what: 'driver and options',
      input: { volumes: ['v:/v'] },
      output: { mounts: [volume('v', '/v')] },
      top: { volumes: { v: { driver: 'nfs', driver_opts: { o: 'addr=1' }, labels: { a: 'b' } } } },
      warnings: ['volumes.v.driver: ignored', 'volumes.v.driver_opts: ignored', 'volumes.v.labels: ignored'],
    },
    { what: 'the local driver', input: { volumes: ['v:/v'] }, output: { mounts: [volume('v', '/v')] }, top: { volumes: { v: { driver: 'local' } } } },
  ])
  checkErrors([{ what: 'a typo', input: {}, top: { volumes: { v: { drivr: 'local' } } }, errors: ['volumes.v.drivr: unknown field'] }])
})

Volumes.run()
