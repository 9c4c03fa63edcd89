// One request for every route of the control API's map, with the awkward values a client must get
// through intact: a slot with a slash, a peer id, a target with an `@`, a numeric query value. The
// type makes it complete: a route added to node/control/api-types.ts must be added here.

import type { RequestOf, RouteName } from '../../../node/control/index.js'

const PEER = '12D3KooWGzBkG9cyRS8tyuKhLxk4dfLfNzQrkXQgTJh2ZgFZ3sLm'

export const REQUESTS: { readonly [R in RouteName]: RequestOf<R> } = {
  'GET /v1/health': {},
  'GET /v1/stats': {},
  'GET /v1/status': {},
  'GET /v1/services/:name': { params: { name: 'web' } },
  'GET /v1/tasks': { query: { service: 'web' } },
  'GET /v1/nodes': {},
  'GET /v1/top': {},
  'GET /v1/endpoints': { query: { service: 'web' } },
  'GET /v1/cluster': {},
  'GET /v1/why/:target': { params: { target: `web@${PEER}` } },
  'GET /v1/slots/:slot/history': { params: { slot: `web@${PEER}` } },
  'POST /v1/apply': { body: { services: [] } },
  'POST /v1/scale': { body: { service: 'web', replicas: 3 } },
  'POST /v1/remove': { body: { services: ['web'] } },
  'POST /v1/revert': { body: { service: 'web', version: 2 } },
  'GET /v1/history': { query: { service: 'web' } },
  'POST /v1/nodes/:peer/:action': { params: { peer: PEER, action: 'drain' } },
  'GET /v1/secrets': {},
  'POST /v1/secrets': { body: { name: 'db.password', valueBase64: 'c2VjcmV0' } },
  'DELETE /v1/secrets/:name': { params: { name: 'db.password' } },
  'GET /v1/events': { query: { follow: '1' } },
  'GET /v1/logs/:slot': { params: { slot: 'web/0' }, query: { follow: '1', tail: 20 } },
  'POST /v1/exec/:slot': { params: { slot: 'web/0' }, body: { command: ['sh', '-c', 'echo hi'], timeoutMs: 5_000 } },
}

export const ROUTE_NAMES = Object.keys(REQUESTS) as RouteName[]
