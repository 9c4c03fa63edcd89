// The two kernel settings kernel forwarding may need, set only while some listener needs them and put
// back as they were when none does (or the forwarder closes). Both are per network namespace.

import { readFile, writeFile } from 'node:fs/promises'

export const ROUTE_LOCALNET = '/proc/sys/net/ipv4/conf/all/route_localnet'
export const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward'

export class SysctlSwitches {
  /** The value found before this forwarder set a switch to 1, by path. */
  readonly #found = new Map<string, string>()

  /** Makes `path` 1 when `needed` (remembering what it was); puts back what it was when not. */
  async want(path: string, needed: boolean): Promise<void> {
    if (needed) {
      if (this.#found.has(path)) return
      const value = (await readFile(path, 'utf8')).trim()
      if (value === '1') return
      await writeFile(path, '1')
      this.#found.set(path, value)
    } else {
      const value = this.#found.get(path)
      if (value === undefined) return
      await writeFile(path, value)
      this.#found.delete(path)
    }
  }

  /** The switches this forwarder changed, with the value each will be put back to. */
  changed(): ReadonlyMap<string, string> {
    return this.#found
  }

  async restoreAll(): Promise<void> {
    for (const path of [...this.#found.keys()]) await this.want(path, false)
  }
}
