// The Docker driver, loaded only where containers can run. dockerode is the heaviest thing an agent
// could import: it requires ssh2 (for ssh:// engines), which instantiates a 16 MiB WebAssembly memory
// for poly1305 and loads two native addons as it is required, and gRPC with protobufjs (for BuildKit
// sessions). Imported statically, that cost ~20 MB of resident memory in every agent, with containers
// off or no engine on the host. So the agent and the CLI reach the driver through here, and a host
// with no engine socket at all never loads it.

import { accessSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { DockerDriver } from './docker-driver.js'

export type EngineAnswer = { ok: true; version: string } | { ok: false; error: string }

/** The Docker driver's module (dockerode and all it brings), loaded on first call. */
export async function loadDockerDriver(): Promise<typeof DockerDriver> {
  return (await import('./docker-driver.js')).DockerDriver
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
