// The Docker driver, loaded only where containers can run. dockerode is the heaviest thing an agent
// could import: it requires ssh2 (for ssh:// engines), which instantiates a 16 MiB WebAssembly memory
// for poly1305 and loads two native addons as it is required, and gRPC with protobufjs (for BuildKit
// sessions). Imported statically, that cost ~20 MB of resident memory in every agent, with containers
// off or no engine on the host. So the agent and the CLI reach the driver through here, and a host
// with no engine socket at all never loads it.
//
// Where the driver is loaded, the two parts of dockerode the driver never uses are deferred until
// something does use them: ssh2 until an ssh:// engine is dialled, gRPC until an image is built with
// a BuildKit session. Both are CommonJS modules required at the top of dockerode's files; a stand-in
// is put in Node's module cache under the real file's name, and the first use replaces it with the real
// module. If dockerode's layout ever differs from the one expected, nothing is deferred.

import { accessSync } from 'node:fs'
import { createRequire } from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { DockerDriver } from './docker-driver.js'

export type EngineAnswer = { ok: true; version: string } | { ok: false; error: string }

/** The Docker driver's module (dockerode and all it brings), loaded on first call. */
export async function loadDockerDriver(): Promise<typeof DockerDriver> {
  deferUnusedDockerodeParts()
  return (await import('./docker-driver.js')).DockerDriver
}

/** dockerode's client class, with the parts the agent never uses deferred, for code that talks to the engine without the driver. */
export async function loadDockerode(): Promise<typeof import('dockerode')> {
  deferUnusedDockerodeParts()
  return (await import('dockerode')).default
}

type CommonJsModule = { id: string; filename: string; loaded: boolean; exports: unknown }

/** The module files deferred, by dockerode's own resolution: [ssh2 as docker-modem requires it, dockerode's session.js]. */
function dockerodeParts(): { ssh2: string; session: string } | undefined {
  try {
    const fromHere = createRequire(import.meta.url)
    const dockerode = fromHere.resolve('dockerode')
    const modem = createRequire(dockerode).resolve('docker-modem')
    return { ssh2: createRequire(modem).resolve('ssh2'), session: createRequire(dockerode).resolve('./session') }
  } catch {
    return undefined
  }
}

function deferUnusedDockerodeParts(): void {
  const parts = dockerodeParts()
  if (parts === undefined) return
  const require = createRequire(import.meta.url)
  const cache = require.cache as Record<string, CommonJsModule | undefined>
  if (cache[parts.ssh2] !== undefined || cache[parts.session] !== undefined) return
  const real = (path: string): (() => unknown) => {
    let loaded: { exports: unknown } | undefined
    return () => {
      if (loaded === undefined) {
        delete cache[path]
        loaded = { exports: require(path) }
      }
      return loaded.exports
    }
  }
  const ssh2 = real(parts.ssh2)
  // docker-modem takes `require('ssh2').Client` once and calls `new Client()` per ssh:// request.
  const Client = function LazySsh2Client(this: unknown, ...args: unknown[]): object {
    const { Client: RealClient } = ssh2() as { Client: new (...a: unknown[]) => object }
    return new RealClient(...args)
  }
  cache[parts.ssh2] = { id: parts.ssh2, filename: parts.ssh2, loaded: true, exports: { Client } }
  // dockerode's session.js exports one function, called only to build images with a session.
  const session = real(parts.session)
  const withSession = (...args: unknown[]): unknown => (session() as (...a: unknown[]) => unknown)(...args)
  cache[parts.session] = { id: parts.session, filename: parts.session, loaded: true, exports: withSession }
}

/**
 * Whether a Docker engine answers where dockerode would look (DOCKER_HOST, else the local socket).
 * Without DOCKER_HOST and with neither local socket present, the answer is known without loading
 * dockerode, and is the error dockerode itself would give.
 */
export async function dockerEngineAnswers(env: NodeJS.ProcessEnv = process.env, sockets: readonly string[] = defaultSockets()): Promise<EngineAnswer> {
  const missing = missingDefaultSocket(env, sockets)
  if (missing !== undefined) return { ok: false, error: `connect ENOENT ${missing}` }
  return (await loadDockerDriver()).engineAnswers()
}

/**
 * Where dockerode looks for the engine when DOCKER_HOST does not say (docker-modem): the user's
 * ~/.docker/run/docker.sock when it exists, else /var/run/docker.sock.
 */
export function defaultSockets(): string[] {
  return [join(homedir(), '.docker', 'run', 'docker.sock'), '/var/run/docker.sock']
}

/**
 * With DOCKER_HOST unset (or `unix://` with no path) and none of `sockets` present, the path
 * dockerode would fail to connect to (the last); undefined when there is something to ask (or on
 * Windows, where the default is a named pipe this check does not look at).
 */
export function missingDefaultSocket(env: NodeJS.ProcessEnv, sockets: readonly string[] = defaultSockets()): string | undefined {
  if (process.platform === 'win32') return undefined
  const host = env.DOCKER_HOST
  if (host !== undefined && host !== '' && host !== 'unix://') return undefined
  return sockets.some(exists) ? undefined : sockets[sockets.length - 1]
}

function exists(path: string): boolean {
  try {
    accessSync(path)
    return true
  } catch {
    return false
  }
}
