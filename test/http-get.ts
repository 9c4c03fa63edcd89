// GET / on host:port as a client from outside would (the routing mesh's published ports, in tests):
// each request its own connection, closed after the answer, so what an agent counts per connection
// is one per request. Resolves with the status and body, or the error's code; never rejects.

import { request } from 'node:http'

export function getRoot(host: string, port: number): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', agent: false, timeout: 3_000 }, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }))
    req.end()
  })
}
