// Joins a client's connection to an endpoint's, both ways, with backpressure (pipe pauses the faster
// side), half-close passed through (each side's end() follows the other's FIN; both sockets are
// allowHalfOpen), and any error on either side ending both.

import type { Socket } from 'node:net'

/** Pipes `client` and `upstream` into each other; `done` runs once, when both sockets have closed. */
export function splice(client: Socket, upstream: Socket, done: () => void): void {
  let open = 2
  const closed = (): void => {
    if (--open === 0) done()
  }
  const fail = (): void => {
    client.destroy()
    upstream.destroy()
  }
  client.on('error', fail)
  upstream.on('error', fail)
  // A socket destroyed without an error (by close() of the proxy, or a reset already handled) also
  // takes the other down: there is no one left to send to.
  client.once('close', (hadError) => {
    if (hadError || !client.writableFinished) upstream.destroy()
    closed()
  })
  upstream.once('close', (hadError) => {
    if (hadError || !upstream.writableFinished) client.destroy()
    closed()
  })
  client.pipe(upstream)
  upstream.pipe(client)
}
