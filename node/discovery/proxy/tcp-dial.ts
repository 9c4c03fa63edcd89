// Opening a TCP connection to an endpoint, bounded in time: a dead host drops SYNs and the kernel would
// retry for minutes, while the client waits for us.

import { connect, type Socket } from 'node:net'
import type { Endpoint } from '../types.js'

export interface Dial {
  /** The socket being connected; destroy it to give up. */
  readonly socket: Socket
  /** Resolves once connected; rejects with why not (the error's message names the endpoint). */
  readonly connected: Promise<Socket>
}

export function dial(endpoint: Endpoint, timeoutMs: number): Dial {
  // allowHalfOpen: the endpoint may finish sending before the client does (and the reverse).
  const socket = connect({ host: endpoint.address, port: endpoint.port, allowHalfOpen: true, noDelay: true })
  const connected = new Promise<Socket>((resolve, reject) => {
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`connect timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs)
    const fail = (error?: Error): void => {
      clearTimeout(timer)
      socket.off('connect', succeed)
      reject(error ?? new Error('connect abandoned'))
    }
    const succeed = (): void => {
      clearTimeout(timer)
      socket.off('error', fail)
      socket.off('close', abandoned)
      resolve(socket)
    }
    const abandoned = (): void => fail()
    socket.once('connect', succeed)
    socket.once('error', fail)
    socket.once('close', abandoned)
  })
  return { socket, connected }
}

/** A short reason for a failed connect: the error code when there is one. */
export const connectFailure = (error: unknown): string => (error as NodeJS.ErrnoException | undefined)?.code ?? (error instanceof Error ? error.message : String(error))
