// Service discovery's face for clients: the traffic reasons `peer why` prints, without loading the
// DNS server, the mesh and libp2p. index.ts is the whole unit; this file loads no package
// (test/architecture.test.ts).

export { endpointWhy } from './endpoint-why.js'
