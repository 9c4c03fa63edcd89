// What this peer knows of each peer's datagram path (p2p/datagrams.ts): the keys the two exchanged,
// where the other's datagrams are to go, and whether that path has been answering. No sockets and no
// timers here: the caller passes the time, so the rules can be tested as they are.
//
// The rules, as memberlist's probes over UDP with a TCP fallback behave, kept per pair:
// - A path is tried once keys are exchanged. Its address is first the IP of the direct connection
//   and the port the peer offered, then wherever the peer's last authentic datagram came from (a
//   peer behind NAT is answered through the mapping its own datagram opened).
// - A ping sent by datagram that no answer follows within the fallback time is sent again over the
//   stream; `missLimit` such misses in a row, with no datagram from the peer between them, take the
//   path out of use. One authentic datagram from the peer puts it back.
// - While out of use, a hello goes with the stream's ping at most once per `helloIntervalMs`, so a
//   path that comes back (a firewall rule lifted, a NAT mapping made again) is found.

import { newDatagramKey, open, ReplayWindow, seal, type DatagramKey, type DatagramType, type Opened } from './datagram-seal.js'

/** The address a peer's datagrams go to. */
export interface DatagramAddress {
  readonly ip: string
  readonly port: number
}

/** What one peer offers another over their connection: where to send, and the key to seal with. */
export interface DatagramOffer extends DatagramKey {
  readonly port: number
}

export interface DatagramLinkRules {
  /** Misses in a row that take a path out of use. */
  readonly missLimit: number
  /** How often a path out of use is tried with a hello. */
  readonly helloIntervalMs: number
}

interface Receiving {
  readonly peer: string
  readonly key: DatagramKey
  readonly window: ReplayWindow
}

interface Sending {
  readonly key: DatagramKey
  address: DatagramAddress
  counter: number
  misses: number
  lastHelloAt: number
  heardAt: number
}

export class DatagramLinks {
  /** Keys this peer made for each sender, by sender and by key id (hex). */
  private readonly receiveByPeer = new Map<string, Receiving>()
  private readonly receiveByKeyId = new Map<string, Receiving>()
  private readonly sending = new Map<string, Sending>()

  constructor(private readonly rules: DatagramLinkRules) {}

  /** The key `peer` is to seal its datagrams to us with (made once per peer, until forgotten). */
  offerTo(peer: string, port: number): DatagramOffer {
    let receiving = this.receiveByPeer.get(peer)
    if (receiving === undefined) {
      receiving = { peer, key: newDatagramKey(), window: new ReplayWindow() }
      this.receiveByPeer.set(peer, receiving)
      this.receiveByKeyId.set(Buffer.from(receiving.key.keyId).toString('hex'), receiving)
    }
    return { ...receiving.key, port }
  }

  /** `peer` offered its key; its datagrams go to `ip` (its connection's) at the offered port. */
  accept(peer: string, offer: DatagramOffer, ip: string): void {
    const known = this.sending.get(peer)
    // The same key offered again (both ends began an exchange at once): its counter goes on — a
    // counter used twice under one key would reuse a nonce, which ChaCha20-Poly1305 must never do.
    if (known !== undefined && Buffer.from(known.key.keyId).equals(offer.keyId) && Buffer.from(known.key.key).equals(offer.key)) return
    this.sending.set(peer, { key: { keyId: offer.keyId, key: offer.key }, address: { ip, port: offer.port }, counter: 0, misses: 0, lastHelloAt: -Infinity, heardAt: -Infinity })
  }

  /** Both directions of `peer` are dropped (its connections closed: it may come back with a new process). */
  forget(peer: string): void {
    const receiving = this.receiveByPeer.get(peer)
    if (receiving !== undefined) this.receiveByKeyId.delete(Buffer.from(receiving.key.keyId).toString('hex'))
    this.receiveByPeer.delete(peer)
    this.sending.delete(peer)
  }

  /** Whether `peer` has offered a key (a datagram can be sealed to it at all). */
  hasKey(peer: string): boolean {
    return this.sending.has(peer)
  }

  /** Whether messages to `peer` go by datagram now. */
  usable(peer: string): boolean {
    const sending = this.sending.get(peer)
    return sending !== undefined && sending.misses < this.rules.missLimit
  }

  /** A hello to send `peer` beside a message that goes by stream, when its path is due a try. */
  helloDue(peer: string, now: number): boolean {
    const sending = this.sending.get(peer)
    if (sending === undefined || sending.misses < this.rules.missLimit) return false
    if (now - sending.lastHelloAt < this.rules.helloIntervalMs) return false
    sending.lastHelloAt = now
    return true
  }

  /** A sealed packet for `peer` and where it goes; undefined when no key was offered. */
  seal(peer: string, type: DatagramType, body: Uint8Array): { packet: Buffer; address: DatagramAddress } | undefined {
    const sending = this.sending.get(peer)
    if (sending === undefined) return undefined
    return { packet: seal(sending.key, ++sending.counter, type, body), address: sending.address }
  }

  /** A ping by datagram went unanswered and was sent again by stream. */
  missed(peer: string): void {
    const sending = this.sending.get(peer)
    if (sending !== undefined) sending.misses++
  }

  /**
   * The sender and contents of a packet from `from` when it opens under a key we gave and is not a
   * replay; undefined otherwise. An authentic packet puts its sender's path back in use, addressed
   * to where the packet came from.
   */
  open(packet: Uint8Array, from: DatagramAddress, keyId: string, now: number): (Opened & { peer: string }) | undefined {
    const receiving = this.receiveByKeyId.get(keyId)
    if (receiving === undefined) return undefined
    const opened = open(receiving.key, packet)
    if (opened === undefined || !receiving.window.accept(opened.counter)) return undefined
    const sending = this.sending.get(receiving.peer)
    if (sending !== undefined) {
      sending.misses = 0
      sending.heardAt = now
      sending.address = from
    }
    return { ...opened, peer: receiving.peer }
  }

  /** When an authentic datagram last came from `peer` (-Infinity: never, or keys not exchanged). */
  heardAt(peer: string): number {
    return this.sending.get(peer)?.heardAt ?? -Infinity
  }

  /** Peers with a path in use, for stats. */
  inUse(): number {
    let count = 0
    for (const peer of this.sending.keys()) if (this.usable(peer)) count++
    return count
  }
}
