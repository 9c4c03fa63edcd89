// The process driver's memory across agent restarts: one small JSON file per running task, under
// `<dataDir>/tasks/`, written atomically (temporary file, fsync, rename, fsync of the directory) so a
// crash leaves either the old record or the new one, never half of one.
//
// A record is written after the process exists and before `running` is reported, and removed after
// the task ended. The window between spawn and the rename is the one place where an agent crash
// leaves a process no record names (see process-driver.ts on orphans).

import { mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileDurably } from '../../io/index.js'
import { parseSlot, type ServiceName, type SlotId } from '../../core/index.js'
import type { ServiceSpec } from '../../core/index.js'

/**
 * A slot as a file name: `web/3` → `web_3`, `web@host-a` → `web+host-a`. Injective on well-formed
 * slots: service names hold neither `_` nor `+`, peer names hold no `+`, and only global slots get a
 * `+`. Never called with a malformed slot (which could hold `..` or `/`).
 */
export function slotFileName(slot: SlotId): string {
  if (parseSlot(slot) === undefined) throw new Error(`malformed slot id ${JSON.stringify(slot)}`)
  return slot.replace('/', '_').replace('@', '+')
}

export interface TaskRecord {
  readonly version: 1
  readonly slot: SlotId
  readonly service: ServiceName
  readonly specHash: string
  readonly spec: ServiceSpec
  /** Pid of the task's main process, which is also its process group id. */
  readonly pid: number
  /** /proc start time of that process, so a reused pid is not mistaken for the task. */
  readonly startTicks: number | null
  readonly startedAtMs: number
  /** The task's secret files (StartOptions.secretsDir), so an adopted task's healthcheck sees them too. */
  readonly secretsDir?: string
}

const RECORD_SUFFIX = '.json'

/** Where a process driver whose data directory is `driverDir` keeps its records. */
export function taskRecordsDir(driverDir: string): string {
  return join(driverDir, 'tasks')
}
let tempCounter = 0

export class TaskRecords {
  constructor(private readonly dir: string) {}

  async write(record: TaskRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const name = slotFileName(record.slot) + RECORD_SUFFIX
    const data = new TextEncoder().encode(JSON.stringify(record) + '\n')
    await writeFileDurably(this.dir, name, data, `.${name}.${process.pid}.${++tempCounter}.tmp`)
  }

  async remove(slot: SlotId): Promise<void> {
    await rm(join(this.dir, slotFileName(slot) + RECORD_SUFFIX), { force: true })
  }

  /**
   * Every readable record. Leftover temporary files (a crash mid-write) are deleted — unless
   * `observe` is set, for readers beside a live driver (tests, benchmarks), whose write may be under
   * way; files that do not hold a record are skipped and named in `unreadable`, left for a person to
   * look at.
   */
  async readAll(options: { observe?: boolean } = {}): Promise<{ records: TaskRecord[]; unreadable: string[] }> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], unreadable: [] }
      throw error
    }
    const records: TaskRecord[] = []
    const unreadable: string[] = []
    for (const name of names.sort()) {
      const path = join(this.dir, name)
      if (name.startsWith('.') && name.endsWith('.tmp')) {
        if (options.observe !== true) await rm(path, { force: true })
        continue
      }
      if (!name.endsWith(RECORD_SUFFIX)) continue
      let value: unknown
      try {
        value = JSON.parse(await readFile(path, 'utf8'))
      } catch {
        unreadable.push(path)
        continue
      }
      if (isTaskRecord(value) && slotFileName(value.slot) + RECORD_SUFFIX === name) records.push(value)
      else unreadable.push(path)
    }
    return { records, unreadable }
  }
}

function isTaskRecord(value: unknown): value is TaskRecord {
  if (typeof value !== 'object' || value === null) return false
  const r = value as Record<string, unknown>
  return r.version === 1 &&
    typeof r.slot === 'string' && parseSlot(r.slot) !== undefined &&
    typeof r.service === 'string' && typeof r.specHash === 'string' &&
    typeof r.spec === 'object' && r.spec !== null && (r.spec as Record<string, unknown>).name === r.service &&
    Number.isSafeInteger(r.pid) && (r.pid as number) > 1 &&
    (r.startTicks === null || Number.isSafeInteger(r.startTicks)) &&
    typeof r.startedAtMs === 'number' &&
    (r.secretsDir === undefined || typeof r.secretsDir === 'string')
}
