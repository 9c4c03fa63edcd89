// The container settings peer carries as they are: user, working_dir (→ workdir), stop_grace_period
// (→ stopGrace), cap_add / cap_drop (→ capAdd / capDrop, upper-case names without CAP_, or ALL), and
// init (peer runs every container with an init process, so only `init: false` is a change it ignores).

import { quoted } from '../error-message.js'
import { formatDurationMs } from '../service-spec/index.js'
import { item, join } from './field-path.js'
import { isAbsolutePath } from './host-paths.js'
import type { ServiceContext } from './project.js'
import type { Report } from './report.js'
import { readBoolean, readDurationMs, readString, readStrings } from './values.js'

export interface WrittenContainer {
  user?: string
  workdir?: string
  capAdd?: string[]
  capDrop?: string[]
  stopGrace?: string
}

export function readContainer(service: Record<string, unknown>, context: ServiceContext): WrittenContainer {
  const { report, path } = context
  const written: WrittenContainer = {}
  const user = readString(service.user, join(path, 'user'), report)
  if (user !== undefined) written.user = user
  const workdir = readString(service.working_dir, join(path, 'working_dir'), report)
  if (workdir !== undefined) {
    if (isAbsolutePath(workdir)) written.workdir = workdir
    else report.error(join(path, 'working_dir'), `${quoted(workdir)} must be an absolute path in the container`)
  }
  const capAdd = readCapabilities(service.cap_add, join(path, 'cap_add'), report)
  if (capAdd !== undefined) written.capAdd = capAdd
  const capDrop = readCapabilities(service.cap_drop, join(path, 'cap_drop'), report)
  if (capDrop !== undefined) written.capDrop = capDrop
  const grace = readDurationMs(service.stop_grace_period, join(path, 'stop_grace_period'), report)
  if (grace !== undefined) written.stopGrace = formatDurationMs(grace)
  if (readBoolean(service.init, join(path, 'init'), report) === false) {
    report.warn(join(path, 'init'), 'ignored: peer runs every container with an init process')
  }
  return written
}

const CAPABILITY = /^[A-Z][A-Z0-9_]*$/

/** Capability names as peer writes them: `net_admin` and `CAP_NET_ADMIN` are both NET_ADMIN. */
function readCapabilities(value: unknown, path: string, report: Report): string[] | undefined {
  const names = readStrings(value, path, report)
  if (names === undefined) return undefined
  const out: string[] = []
  names.forEach((name, i) => {
    const upper = name.trim().toUpperCase()
    const bare = upper.startsWith('CAP_') ? upper.slice(4) : upper
    if (!CAPABILITY.test(bare)) report.error(item(path, i), `${quoted(name)} is not a capability name such as NET_ADMIN or ALL`)
    else if (!out.includes(bare)) out.push(bare)
  })
  return out
}
