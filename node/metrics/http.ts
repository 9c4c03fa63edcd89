// The agent's /metrics endpoint: plain HTTP, GET /metrics only. It listens on loopback unless the
// operator opens it (`--metrics 0.0.0.0:9464`): metrics name services, slots and peers, which is the
// cluster's layout, so exposing them is a choice. Port 9464 is the one OpenTelemetry's Prometheus
// exporter uses by convention, free of the usual node_exporter (9100) and Prometheus (9090).

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface MetricsListen {
  readonly host: string
  readonly port: number
}

export const DEFAULT_METRICS_LISTEN: MetricsListen = { host: '127.0.0.1', port: 9464 }

/**
 * `--metrics` as typed: `off`, `host:port`, `[v6]:port`, or `:port` / a bare port (loopback).
 * Returns what is wrong, in words, for anything else. The web view's `--ui` takes the same form.
 */
export function parseMetricsListen(text: string, flag = '--metrics', defaultHost = DEFAULT_METRICS_LISTEN.host): { ok: true; value: MetricsListen | 'off' } | { ok: false; error: string } {
  const value = text.trim()
  if (value === 'off') return { ok: true, value: 'off' }
  const match = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):)?(\d{1,5})$/.exec(value)
  if (match === null) return { ok: false, error: `${flag}: expected host:port, :port or off, got ${JSON.stringify(text)}` }
  const port = Number(match[2])
  if (port > 65_535) return { ok: false, error: `${flag}: port ${port} is over 65535` }
  const rawHost = match[1] ?? ''
  const host = rawHost === '' ? defaultHost : rawHost.replace(/^\[|\]$/g, '')
  return { ok: true, value: { host, port } }
}

export interface MetricsServer {
  /** host:port it listens on (the port picked when 0 was asked). */
  readonly address: string
  close(): Promise<void>
}

/** Serves `render()` at GET /metrics. Rejects when the address cannot be bound (in use, not ours). */
export async function serveMetrics(listen: MetricsListen, render: () => Promise<string>, contentType: string): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('only /metrics is served here\n')
      return
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('GET /metrics\n')
      return
    }
    render().then(
      (text) => response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(request.method === 'HEAD' ? undefined : text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${String(error)}\n`),
    )
  })
  return {
    address: await listenHttp(server, listen),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}

/** Binds `server` to `listen`; resolves with the host:port taken (`[v6]:port` for IPv6), rejects when it cannot be bound. */
export async function listenHttp(server: Server, listen: MetricsListen): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = server.address() as AddressInfo
  return `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
}
