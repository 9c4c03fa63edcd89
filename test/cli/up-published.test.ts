// `peer up --local -f app.yaml` says where the services' ingress ports answer: every agent's address.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { publishedText } from '../../cli/commands/up.js'
import { validateServices } from '../../core/index.js'

const published = suite('peer up: published ports')

published('each ingress port on every agent\'s address; host-mode and name-only ports are not listed', () => {
  const result = validateServices({ services: {
    web: { image: 'nginx', ports: [{ host: 8080, container: 80, mode: 'ingress' }, '9000:90', { container: 81, mode: 'ingress' }] },
    dns: { image: 'dns', ports: [{ host: 53, container: 53, protocol: 'udp', mode: 'ingress' }] },
  } })
  if (!result.ok) throw new Error('invalid')
  const text = publishedText(result.services, ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.2/tcp/4002'])
  assert.is(text, '\npublished on every peer (routing mesh):\n  web 80/tcp on 127.0.0.1:8080, 127.0.0.2:8080\n  dns 53/udp on 127.0.0.1:53, 127.0.0.2:53\n')
  assert.is(publishedText(result.services.filter((s) => s.name === 'kv'), ['/ip4/127.0.0.1/tcp/4001']), '')
})

published.run()
