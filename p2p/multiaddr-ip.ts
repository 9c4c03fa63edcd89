// The IP a multiaddr names, for the host's own addresses and for NAT detection alike.

/** The IP of `/ip4/…` or `/ip6/…` at the start of a multiaddr; undefined for other forms (relayed, DNS). */
export function ipOfMultiaddr(address: string): string | undefined {
  if (address.includes('/p2p-circuit')) return undefined
  return /^\/ip[46]\/([^/]+)\//.exec(address)?.[1]
}
