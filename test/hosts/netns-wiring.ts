// The pieces topologies are built of: a namespace, a bridge in a namespace of its own, a veth from a
// namespace into a bridge, and a NAT router between a site's bridge and the WAN. Every interface is
// made from inside its namespace with its peer end created straight in the other, so nothing ever
// appears in the machine's own namespace.

import { inNamespace, run } from './command.js'

/** A namespace with its loopback up. */
export async function addNamespace(name: string): Promise<void> {
  await run(['ip', 'netns', 'add', name])
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
}

/** A namespace holding one bridge, br0. */
export async function addBridge(namespace: string): Promise<void> {
  await run(['ip', 'netns', 'add', namespace])
  await run(['ip', '-n', namespace, 'link', 'add', 'br0', 'type', 'bridge'])
  await run(['ip', '-n', namespace, 'link', 'set', 'br0', 'up'])
}

/** A veth from `namespace` (named `inside`) into `bridgeNamespace`'s br0 as port `port`, with a /24 address. */
export async function wire(namespace: string, inside: string, bridgeNamespace: string, port: string, address: string): Promise<void> {
  await run(['ip', '-n', namespace, 'link', 'add', inside, 'type', 'veth', 'peer', 'name', port, 'netns', bridgeNamespace])
  await run(['ip', '-n', bridgeNamespace, 'link', 'set', port, 'master', 'br0', 'up'])
  await run(['ip', '-n', namespace, 'addr', 'add', `${address}/24`, 'dev', inside])
  await run(['ip', '-n', namespace, 'link', 'set', inside, 'up'])
}

/**
 * How a NAT router maps: `keeps-ports` keeps the inside port when it is free (Linux MASQUERADE's own
 * way, most home and office routers') and drops an unsolicited connection to its own address without
 * a word, so a host's mapping can be foreseen and two hosts' simultaneous SYNs meet: hole punching
 * works. `random-ports` draws a new port per connection (`--random-fully`, as symmetric and
 * carrier-grade NATs do) and answers an unsolicited SYN with a reset (the kernel's default): every
 * punch misses and links stay relayed. (A router that resets but keeps ports also defeats punching
 * on these links, which have no delay: the first SYN meets the far router before the far host's own
 * SYN opened the mapping, and its reset closes the near mapping — docs/edge.md, Hole punching.)
 */
export type NatPorts = 'keeps-ports' | 'random-ports'

/**
 * Makes `namespace` a site's NAT router: it forwards from its LANs (lan0, or those named) to its
 * wan0 with source NAT, and lets in from the WAN only replies (conntrack); a connection opened from
 * the WAN into the site is dropped. Between two LANs of the site it routes without translation (a
 * site of routed subnets). Its interfaces must exist already.
 */
export async function natRouter(namespace: string, ports: NatPorts, lans: readonly string[] = ['lan0']): Promise<void> {
  await run(inNamespace(namespace, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']))
  await run(inNamespace(namespace, ['iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan0', '-j', 'MASQUERADE', ...(ports === 'random-ports' ? ['--random-fully'] : [])]))
  if (ports === 'keeps-ports') await run(inNamespace(namespace, ['iptables', '-w', '-A', 'INPUT', '-i', 'wan0', '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP']))
  for (const lan of lans) await run(inNamespace(namespace, ['iptables', '-w', '-A', 'FORWARD', '-i', 'wan0', '-o', lan, '-m', 'conntrack', '--ctstate', 'NEW', '-j', 'DROP']))
}
