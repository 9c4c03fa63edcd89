// Where published ingress ports listen: the agent's own listening address, so two agents on one
// machine (each on its own 127.0.0.x, as `peer up --local` runs them) do not take each other's ports,
// and every address when the agent listens on every address.

import { ipOfMultiaddr } from '../../p2p/index.js'

export function meshHostOf(listen: readonly string[]): string {
  for (const address of listen) {
    const ip = ipOfMultiaddr(address.endsWith('/') ? address : `${address}/`)
    if (ip !== undefined) return ip
  }
  return '0.0.0.0'
}
