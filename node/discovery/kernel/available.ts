// Whether this agent can forward in the kernel, and if not, why: the agent then forwards in userspace
// and shows the reason. Checks what the rules need, by making them: a probe chain per table holding
// one rule of every kind the forwarder writes (so a missing match or target module shows up here,
// not at the first listener), deleted straight after.

import { access, constants } from 'node:fs/promises'
import { IPTABLES, iptablesRestore, type IptablesCommands } from './iptables.js'
import { IP_FORWARD, ROUTE_LOCALNET } from './sysctl.js'

export type KernelForwardingCheck = { ok: true } | { ok: false; reason: string }

export interface AvailabilityInit {
  readonly chainPrefix?: string
  readonly iptables?: IptablesCommands
}

export async function kernelForwardingAvailable(init: AvailabilityInit = {}): Promise<KernelForwardingCheck> {
  const uid = process.getuid?.()
  if (uid !== 0) return { ok: false, reason: `kernel forwarding needs root; the agent runs as uid ${uid ?? 'unknown'}` }
  for (const path of [ROUTE_LOCALNET, IP_FORWARD]) {
    try {
      await access(path, constants.W_OK)
    } catch {
      return { ok: false, reason: `${path} cannot be written (read-only /proc/sys?)` }
    }
  }
  const iptables = init.iptables ?? IPTABLES
  const probe = `${init.chainPrefix ?? 'PEER'}-PROBE`
  const make = [
    '*nat', `:${probe} - [0:0]`,
    `-A ${probe} -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 1 -m comment --comment "probe" -m statistic --mode random --probability 0.5000000000 -j DNAT --to-destination 127.0.0.1:1`,
    `-A ${probe} -d 127.0.0.1/32 -p tcp -m tcp --dport 1 -m conntrack --ctstate DNAT --ctorigdstport 1 -j MASQUERADE`,
    'COMMIT',
    '*filter', `:${probe} - [0:0]`, `-A ${probe} -p tcp -m tcp --dport 1 -j REJECT --reject-with tcp-reset`, 'COMMIT',
    '*mangle', `:${probe} - [0:0]`, `-A ${probe} -p tcp -m conntrack --ctstate DNAT --ctorigdstport 1 --ctreplsrc 127.0.0.1 --ctreplsrcport 1 --ctdir REPLY`, 'COMMIT',
  ]
  const remove = ['nat', 'filter', 'mangle'].flatMap((table) => [`*${table}`, `:${probe} - [0:0]`, `-X ${probe}`, 'COMMIT'])
  try {
    await iptablesRestore(iptables, `${make.join('\n')}\n`)
  } catch (error) {
    // A half-made probe (one table committed, the next refused) must not stay behind.
    await iptablesRestore(iptables, `${remove.join('\n')}\n`).catch(() => {})
    return { ok: false, reason: `iptables cannot make the NAT rules kernel forwarding needs: ${(error as Error).message}` }
  }
  try {
    await iptablesRestore(iptables, `${remove.join('\n')}\n`)
  } catch (error) {
    return { ok: false, reason: `iptables made but cannot delete chain ${probe}: ${(error as Error).message}` }
  }
  return { ok: true }
}
