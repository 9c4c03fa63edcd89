// A control-API stream (the agent's events, as `peer events -f` gets them) written as Server-Sent
// Events, which a browser's EventSource reads and reconnects by itself. A comment line every 15 s
// keeps idle proxies and NATs from closing a quiet stream.

import type { ServerResponse } from 'node:http'

const KEEPALIVE_MS = 15_000

/** Writes each item as one `data:` event until the stream ends or the signal aborts (the client left). */
export async function writeEventStream(stream: AsyncIterable<unknown>, response: ServerResponse, signal: AbortSignal): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
  response.flushHeaders()
  const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS)
  try {
    for await (const item of stream) {
      if (signal.aborted) break
      // JSON has no raw newlines, so each item is exactly one data line.
      response.write(`data: ${JSON.stringify(item)}\n\n`)
    }
  } finally {
    clearInterval(keepalive)
    response.end()
  }
}
