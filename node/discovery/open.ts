// How an agent's service discovery is set up from its flags: which forwarder (kernel NAT rules where
// the agent is root and iptables answers, the userspace proxy otherwise, or none), which service
// range, and where the DNS server listens.

import { readFile } from 'node:fs/promises'
import { Discovery, type DnsChoice } from './discovery.js'
import { startDnsServer, systemUpstreams } from './dns/index.js'
import { KernelForwarder, kernelForwardingAvailable } from './kernel/index.js'
import { UserspaceProxy } from './proxy/index.js'
import type { RegistryInputs } from './registry.js'
import { defaultServiceCidr, dnsAddressOf, parseServiceRange, type ServiceRange } from './service-addresses.js'
import type { TunnelOpener } from './tunnel/index.js'
import type { EndpointSource, Forwarder } from './types.js'

export type MeshMode = 'auto' | 'kernel' | 'userspace' | 'off'
export const MESH_MODES: readonly MeshMode[] = ['auto', 'kernel', 'userspace', 'off']

export interface DiscoverySettings {
  readonly mesh: MeshMode
  /** The service range (service-addresses.ts); when absent, defaultServiceCidr's choice. */
  readonly serviceCidr?: string
  /** `off`, where to listen (must bind), or absent: the range's first address, port 53 as root, else 5353. */
  readonly dns?: { readonly host?: string; readonly port: number } | 'off'
}

/** The mode an agent will run its forwarder in, decided before it starts (it is one of its labels). */
export interface ForwarderPlan {
  readonly mode: 'kernel' | 'userspace' | 'off'
  readonly reason?: string
}

export async function planForwarder(mesh: MeshMode, chainPrefix: string): Promise<ForwarderPlan> {
  if (mesh === 'off') return { mode: 'off', reason: 'turned off (--mesh off)' }
  if (mesh === 'userspace') return { mode: 'userspace', reason: 'chosen (--mesh userspace)' }
  const check = await kernelForwardingAvailable({ chainPrefix })
  if (check.ok) return { mode: 'kernel' }
  if (mesh === 'kernel') throw new Error(`--mesh kernel: ${check.reason}`)
  return { mode: 'userspace', reason: check.reason }
}

export function serviceRangeOf(settings: DiscoverySettings, runsContainers = false): ServiceRange {
  const range = parseServiceRange(settings.serviceCidr ?? defaultServiceCidr(runsContainers, process.getuid?.() === 0))
  if (typeof range === 'string') throw new Error(`--service-cidr: ${range}`)
  return range
}

/**
 * iptables chain names hold 28 characters: the prefix names the agent, so agents sharing a host keep
 * apart. Upper-cased because chain prefixes are capital letters and digits (kernel/chains.ts) while a
 * peer id's base58 tail is mixed case: as it was, every kernel forwarder start threw and took the
 * agent down with it.
 */
export const chainPrefixOf = (self: string): string => `PEER${self.slice(-6).toUpperCase()}`

export async function openDiscovery(options: {
  readonly self: RegistryInputs['self']
  readonly settings: DiscoverySettings
  readonly plan: ForwarderPlan
  readonly meshHost: string
  /** A container engine answered: the default range must be one containers reach. */
  readonly runsContainers: boolean
  readonly inputs: () => RegistryInputs
  readonly log: (line: string) => void
  /** Opens tunnels to tasks on peers reached only through a relay (the userspace proxy's only). */
  readonly tunnel?: TunnelOpener
}): Promise<Discovery> {
  const range = serviceRangeOf(options.settings, options.runsContainers)
  const chosen = options.settings.dns
  const root = process.getuid?.() === 0
  const dns: DnsChoice = chosen === 'off' ? 'off' : chosen === undefined ? { port: root ? 53 : 5353, given: false } : { ...chosen, given: true }
  const resolvConf = await readFile('/etc/resolv.conf', 'utf8').catch(() => '')
  const own = [dnsAddressOf(range), ...(dns !== 'off' && dns.host !== undefined ? [dns.host] : [])]
  const upstream = systemUpstreams(resolvConf, own)
  const createForwarder = async (source: EndpointSource): Promise<Forwarder | undefined> => {
    switch (options.plan.mode) {
      case 'off':
        return undefined
      case 'userspace':
        return new UserspaceProxy({ endpoints: source, log: options.log, ...(options.tunnel === undefined ? {} : { tunnel: options.tunnel }) })
      case 'kernel':
        try {
          return await KernelForwarder.start(source, { chainPrefix: chainPrefixOf(options.self), log: options.log })
        } catch (error) {
          if (options.settings.mesh === 'kernel') throw error
          options.log(`kernel forwarding could not start, using the userspace proxy: ${(error as Error).message}`)
          return new UserspaceProxy({ endpoints: source, log: options.log, ...(options.tunnel === undefined ? {} : { tunnel: options.tunnel }) })
        }
    }
  }
  return Discovery.open({
    self: options.self,
    range,
    dns,
    startDns: (dnsOptions) => startDnsServer({ ...dnsOptions, upstream }),
    createForwarder,
    ...(options.plan.reason === undefined ? {} : { modeReason: options.plan.reason }),
    meshHost: options.meshHost,
    inputs: options.inputs,
    log: options.log,
  })
}
