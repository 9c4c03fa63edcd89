// Linux capabilities a container gains (`capAdd`) or loses (`capDrop`) against the engine's default
// set, as `docker run --cap-add/--cap-drop` and Compose's `cap_add`/`cap_drop` say them. Written in any
// case, with or without the `CAP_` prefix; kept upper case without it (`NET_ADMIN`), sorted and once
// each, so equal intent hashes equal. A name that is no capability is refused here rather than by the
// engine at every start on every peer: a typo must not cost a failing rollout.

import { type SpecError } from './field-errors.js'
import { SPEC_LIMITS } from './limits.js'

/**
 * Every capability of capabilities(7) up to Linux 5.9, without the prefix. An engine older than the
 * newest of them (PERFMON, BPF, CHECKPOINT_RESTORE: Docker 20.10 does not know them) fails the start
 * with its own message.
 */
export const LINUX_CAPABILITIES: readonly string[] = [
  'AUDIT_CONTROL', 'AUDIT_READ', 'AUDIT_WRITE', 'BLOCK_SUSPEND', 'BPF', 'CHECKPOINT_RESTORE', 'CHOWN', 'DAC_OVERRIDE',
  'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'IPC_LOCK', 'IPC_OWNER', 'KILL', 'LEASE', 'LINUX_IMMUTABLE', 'MAC_ADMIN',
  'MAC_OVERRIDE', 'MKNOD', 'NET_ADMIN', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_RAW', 'PERFMON', 'SETFCAP', 'SETGID',
  'SETPCAP', 'SETUID', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_CHROOT', 'SYS_MODULE', 'SYS_NICE', 'SYS_PACCT', 'SYS_PTRACE',
  'SYS_RAWIO', 'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'SYSLOG', 'WAKE_ALARM',
]

/** Every capability at once, as Docker reads it. */
export const ALL_CAPABILITIES = 'ALL'

const KNOWN = new Set([...LINUX_CAPABILITIES, ALL_CAPABILITIES])

/** A written capability name in its normal form, or undefined when it names none. */
export function normalCapability(written: string): string | undefined {
  const upper = written.toUpperCase()
  const name = upper.startsWith('CAP_') ? upper.slice(4) : upper
  return KNOWN.has(name) ? name : undefined
}

/** `capAdd:` or `capDrop:` as written: a list of names. Undefined for none (absent or empty). */
export function validateCapabilities(value: unknown, path: string, errors: SpecError[]): string[] | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) {
    errors.push({ path, message: 'expected a list of Linux capabilities such as [NET_ADMIN, SYS_TIME]' })
    return undefined
  }
  if (value.length > SPEC_LIMITS.maxCapabilities) {
    errors.push({ path, message: `at most ${SPEC_LIMITS.maxCapabilities} capabilities` })
    return undefined
  }
  const names = new Set<string>()
  value.forEach((item, i) => {
    const name = typeof item === 'string' ? normalCapability(item) : undefined
    if (name === undefined) errors.push({ path: `${path}[${i}]`, message: 'expected a Linux capability such as NET_ADMIN or CAP_SYS_TIME (see capabilities(7)), or ALL' })
    else names.add(name)
  })
  return names.size === 0 ? undefined : [...names].sort()
}
