// What the page may ask an agent: the control API's read-only routes, answered in-process by the very
// handlers the CLI reaches over the unix socket, at /ui/api/v1/… instead of /v1/…. Nothing that
// changes the cluster, runs a command or reads a task's output (logs may print secrets) is reachable,
// and every answer loses its `env` maps before it leaves the agent: env values are often secrets,
// and the page has no use for them.

import { compileRoute, ControlError, matchRoute, type CompiledRoute, type ControlReply, type ControlRoute } from '../control/index.js'

/** The control routes the page reads. Everything else is a 404 here, whatever the control API has. */
export const READ_ROUTES = [
  'GET /v1/health',
  'GET /v1/status',
  'GET /v1/nodes',
  'GET /v1/top',
  'GET /v1/tasks',
  'GET /v1/services/:name',
  'GET /v1/why/:target',
  'GET /v1/slots/:slot/history',
  'GET /v1/history',
  'GET /v1/cluster',
  'GET /v1/endpoints',
  'GET /v1/events',
] as const

export const READ_API_PREFIX = '/ui/api'

export interface ReadApi {
  /** The route's reply with env maps removed, or a ControlError (404 for anything not listed). */
  answer(pathname: string, query: URLSearchParams, signal: AbortSignal): Promise<ControlReply>
}

export function readApi(routes: readonly ControlRoute[]): ReadApi {
  const allowed = new Set<string>(READ_ROUTES)
  const table: CompiledRoute[] = routes.filter((route) => allowed.has(`${route.method} ${route.path}`)).map(compileRoute)
  return {
    async answer(pathname, query, signal) {
      const segments = pathname.slice(READ_API_PREFIX.length + 1).split('/')
      for (const compiled of table) {
        const params = matchRoute(compiled, segments)
        if (params === undefined) continue
        const reply = await compiled.route.handle({ params, query, body: undefined, signal })
        return 'stream' in reply ? { stream: withoutEnvStream(reply.stream) } : { ...reply, body: withoutEnv(reply.body) }
      }
      throw new ControlError(404, 'not-found', `the page reads no ${pathname}`)
    },
  }
}

/** A copy of `value` with every `env` property dropped, at any depth. */
export function withoutEnv(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEnv)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== 'env').map(([key, inner]) => [key, withoutEnv(inner)]))
}

async function* withoutEnvStream(stream: AsyncIterable<unknown>): AsyncGenerator<unknown> {
  for await (const item of stream) yield withoutEnv(item)
}
