// A join address in the words `peer nodes` and the logs use. Its own file: client commands show
// it without loading libp2p.

/** `127.0.0.2:4001` for /ip4/127.0.0.2/tcp/4001 (with or without /p2p/<id>); other multiaddrs as they are. */
export function joinLabel(address: string): string {
  const match = /^\/(?:ip4|dns4|dns6|dns)\/([^/]+)\/tcp\/(\d+)(?:\/p2p\/[^/]+)?$/.exec(address) ?? /^\/ip6\/([^/]+)\/tcp\/(\d+)(?:\/p2p\/[^/]+)?$/.exec(address)
  if (match === null) return address
  return address.startsWith('/ip6/') ? `[${match[1]}]:${match[2]}` : `${match[1]}:${match[2]}`
}
