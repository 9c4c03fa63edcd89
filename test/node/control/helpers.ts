// A control server on a socket in a fresh directory, for tests of the control API and its clients.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startControlServer, type ControlRoute, type ControlServer, type ControlServerOptions } from '../../../node/control/index.js'

/** Runs `body` in a new temporary directory, removed afterwards whatever happens. */
export async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'peer-control-'))
  try {
    await body(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Starts a server on `dir`/control.sock, runs `body`, and closes the server whatever happens. */
export async function withServer(routes: readonly ControlRoute[], body: (socketPath: string, server: ControlServer) => Promise<void>, options: ControlServerOptions = {}): Promise<void> {
  await withDir(async (dir) => {
    const server = await startControlServer(join(dir, 'control.sock'), routes, { log: () => undefined, ...options })
    try {
      await body(server.socketPath, server)
    } finally {
      await server.close()
    }
  })
}
