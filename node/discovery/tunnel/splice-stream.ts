// Joins a TCP socket and a libp2p stream both ways, as splice.ts joins two sockets: backpressure each
// way (a full socket pauses the stream, which tells the far side's yamux to stop sending; a stream
// that needs draining pauses the socket, so the kernel's buffers hold the rest), half-close passed on
// (the socket's FIN closes the stream's writing end, the stream's end ends the socket), and an error
// or reset on either side ending both.

import type { Stream } from '@libp2p/interface'
import type { Socket } from 'node:net'

/** Pipes `socket` and `stream` into each other; `done` runs once, when both have closed. */
export function spliceStream(socket: Socket, stream: Stream, done: () => void): void {
  let open = 2
  const closed = (): void => {
    if (--open === 0) done()
  }
  const fail = (error: Error): void => {
    if (stream.status === 'open' || stream.status === 'closing') stream.abort(error)
    if (!socket.destroyed) socket.resetAndDestroy()
  }

  socket.on('data', (chunk: Buffer) => {
    try {
      if (stream.send(chunk)) return
    } catch (error) {
      return fail(error as Error)
    }
    socket.pause()
    stream.onDrain().then(() => socket.resume(), (error: unknown) => fail(error as Error))
  })
  socket.on('end', () => {
    stream.close().catch((error: unknown) => fail(error as Error))
  })
  socket.on('error', fail)
  socket.once('close', (hadError) => {
    // Closed without both directions finished (destroyed by the proxy's close()): nobody is left to send to.
    if (hadError || !socket.writableFinished || !socket.readableEnded) fail(new Error('client connection closed'))
    closed()
  })

  stream.addEventListener('message', (event) => {
    if (socket.write(event.data.subarray())) return
    stream.pause()
    socket.once('drain', () => stream.resume())
  })
  stream.addEventListener('end', () => {
    if (!socket.destroyed) socket.end()
  })
  stream.addEventListener('close', (event) => {
    if (event.error !== undefined && !socket.destroyed) socket.resetAndDestroy()
    closed()
  }, { once: true })
  socket.resume()
}
