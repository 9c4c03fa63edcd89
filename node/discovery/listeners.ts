// Which sockets an agent's forwarder listens on, from the desired services: every port of a service
// on the service's address (traffic by name), and every ingress port published on the agent's own
// address (the routing mesh). Host-mode ports get no listener: the task binds them on its host.

import type { ServiceSpec } from '../../core/index.js'
import type { Listener } from './types.js'

export function listenersFor(services: readonly ServiceSpec[], addressOf: (service: string) => string | undefined, meshHost: string): Listener[] {
  const listeners: Listener[] = []
  for (const spec of services) {
    const address = addressOf(spec.name)
    const named = new Set<string>()
    for (const port of spec.ports) {
      const key = `${port.container}/${port.protocol}`
      if (address !== undefined && !named.has(key)) {
        named.add(key)
        listeners.push({ service: spec.name, target: port.container, protocol: port.protocol, host: address, port: port.container, role: 'service' })
      }
      if (port.mode === 'ingress' && port.host > 0) {
        listeners.push({ service: spec.name, target: port.container, protocol: port.protocol, host: meshHost, port: port.host, role: 'mesh' })
      }
    }
  }
  return listeners
}
