// The control API's route map on the wire: what a route name stands for, that a client's request for
// a route reaches that very route on a real server with its parameters, query and body intact, and
// that docs/control-api.md lists the same routes as the map.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { controlRequest, routeParts, routeTarget, type ControlRoute, type RouteName } from '../../../node/control/index.js'
import { repoRoot } from '../../cli/run-cli.js'
import { withServer } from './helpers.js'
import { REQUESTS, ROUTE_NAMES } from './requests.js'

const routes = suite('control API route map')

routes('a route name is its method and its path pattern', () => {
  assert.equal(routeParts('POST /v1/nodes/:peer/:action'), { method: 'POST', path: '/v1/nodes/:peer/:action' })
  assert.equal(routeParts('GET /v1/health'), { method: 'GET', path: '/v1/health' })
})

routes('a request fills each :segment URL-encoded and appends only the query values given', () => {
  assert.equal(routeTarget('GET /v1/logs/:slot', { params: { slot: 'web/0' }, query: { follow: '1', tail: 20 } }), { method: 'GET', path: '/v1/logs/web%2F0?follow=1&tail=20', body: undefined })
  assert.is(routeTarget('GET /v1/tasks', { query: { service: undefined } }).path, '/v1/tasks')
  assert.is(routeTarget('GET /v1/tasks', {}).path, '/v1/tasks')
  assert.equal(routeTarget('POST /v1/scale', { body: { service: 'web', replicas: 3 } }), { method: 'POST', path: '/v1/scale', body: { service: 'web', replicas: 3 } })
})

routes('each route\'s request reaches that route on the server, with its parameters, query and body intact', async () => {
  // Every route of the map served by a handler that answers with its own name and what it received.
  const echo: ControlRoute[] = ROUTE_NAMES.map((route) => ({
    ...routeParts(route),
    handle: ({ params, query, body }) => ({ body: { route, params, query: Object.fromEntries(query), body } }),
  }))
  await withServer(echo, async (socketPath) => {
    for (const route of ROUTE_NAMES) {
      const request = REQUESTS[route] as { params?: Record<string, string>; query?: Record<string, unknown>; body?: unknown }
      const target = targetOf(route)
      const answer = await controlRequest(socketPath, target.method, target.path, target.body)
      const query = Object.fromEntries(Object.entries(request.query ?? {}).map(([name, value]) => [name, String(value)]))
      assert.equal(answer, { route, params: request.params ?? {}, query, ...(request.body === undefined ? {} : { body: request.body }) }, route)
    }
  })
})

routes('docs/control-api.md documents every route of the map, and no other', () => {
  const text = readFileSync(join(repoRoot, 'docs', 'control-api.md'), 'utf8')
  // Table rows start with the route, optional query parts in brackets: | `GET /v1/tasks[?service=S]` |
  const documented = [...text.matchAll(/^\| `(GET|POST|DELETE) ([^`[\s]+)/gm)].map((match) => `${match[1]} ${match[2]}`)
  assert.equal([...documented].sort(), [...ROUTE_NAMES].sort())
})

/** What the client sends for the sample request of `route`. */
function targetOf<R extends RouteName>(route: R): ReturnType<typeof routeTarget> {
  return routeTarget(route, REQUESTS[route])
}

routes.run()
