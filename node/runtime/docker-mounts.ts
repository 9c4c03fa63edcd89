// What a container has mounted, in the engine's terms (HostConfig.Mounts): the spec's own mounts,
// the task's secret files at /run/secrets, and each secret with an absolute target bind-mounted on
// its own at that path. All are mounts, not binds (HostConfig.Binds): for a bind source the host does
// not have, the engine refuses to create the container instead of quietly making an empty directory
// there — a start that fails and says why beats a service that runs on an empty config.

import type Docker from 'dockerode'
import { join } from 'node:path'
import { CONTAINER_SECRETS_DIR, secretFileName, type ServiceSpec } from '../../core/index.js'

/**
 * The mounts of a container of `spec`. `secretsDir` is the host directory holding the task's secret
 * files (node/agent/secret-files.ts), when the spec lists secrets.
 */
export function containerMounts(spec: ServiceSpec, secretsDir: string | undefined): Docker.MountSettings[] {
  // Source: a host path (bind), a volume name (volume, made by the engine on first use), '' (tmpfs).
  const mounts: Docker.MountSettings[] = (spec.mounts ?? []).map((mount) => ({ Type: mount.type, Source: mount.source, Target: mount.target, ReadOnly: mount.readOnly }))
  if (secretsDir === undefined) return mounts
  mounts.push({ Type: 'bind', Source: secretsDir, Target: CONTAINER_SECRETS_DIR, ReadOnly: true })
  for (const ref of spec.secrets ?? []) {
    if (ref.target?.startsWith('/')) mounts.push({ Type: 'bind', Source: join(secretsDir, secretFileName(ref)), Target: ref.target, ReadOnly: true })
  }
  return mounts
}

/**
 * The engine's refusal of a container's mounts, as a person acts on it: a bind source missing on
 * this host is named as such. Undefined for any other error.
 */
export function describeMountError(message: string): string | undefined {
  const missing = /bind source path does not exist: (.+)$/.exec(message)
  if (missing === null) return undefined
  return `bind mount source ${missing[1]!.trim()} does not exist on this host (${message})`
}
