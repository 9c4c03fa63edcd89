// The sealed datagram: what one peer sends another over UDP (p2p/datagrams.ts), encrypted and
// authenticated with a key the receiver gave that one sender over their Noise-secured connection.
//
//   byte 0        version (1)
//   bytes 1–8     key id: names the receiver's key, and so the sender
//   bytes 9–16    counter: the sender's packet number under that key (big-endian), the AEAD nonce
//   bytes 17–     ChaCha20-Poly1305 of (type byte, body), the header as associated data; 16-byte tag
//
// As WireGuard does: a key belongs to one pair and one direction, so a packet that opens under it
// came from the peer that key was given to, and the counter, checked against a sliding window, keeps
// a recorded packet from being played again. Nothing here is a secret kept from swarm-key holders
// alone: a member that has the swarm key but not the pair's key can neither read nor forge.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

export const DATAGRAM_VERSION = 1
export const KEY_ID_BYTES = 8
export const KEY_BYTES = 32
const HEADER_BYTES = 1 + KEY_ID_BYTES + 8
const TAG_BYTES = 16
/** Counters up to 2^53: a peer sending a million datagrams a second would take 285 years. */
const MAX_COUNTER = Number.MAX_SAFE_INTEGER
/** Packets may arrive out of order by up to this many counters (UDP reorders; WireGuard keeps 2,048). */
export const REPLAY_WINDOW = 1_024

/** What a datagram carries: a hello (proves the path, asks for one back) or a protocol message. */
export const enum DatagramType {
  Hello = 0,
  Message = 1,
}

/** One direction of a pair: the key and its id, as the receiver made them. */
export interface DatagramKey {
  readonly keyId: Uint8Array
  readonly key: Uint8Array
}

export function newDatagramKey(): DatagramKey {
  return { keyId: randomBytes(KEY_ID_BYTES), key: randomBytes(KEY_BYTES) }
}

/** The key id of a packet, to look up its key; undefined when the packet is not one of ours. */
export function keyIdOf(packet: Uint8Array): string | undefined {
  if (!isOurs(packet)) return undefined
  return Buffer.from(packet.buffer, packet.byteOffset + 1, KEY_ID_BYTES).toString('hex')
}

export function seal(key: DatagramKey, counter: number, type: DatagramType, body: Uint8Array): Buffer {
  if (!Number.isSafeInteger(counter) || counter < 0 || counter > MAX_COUNTER) throw new RangeError(`datagram counter out of range: ${counter}`)
  const header = Buffer.allocUnsafe(HEADER_BYTES)
  header[0] = DATAGRAM_VERSION
  header.set(key.keyId, 1)
  header.writeUIntBE(Math.floor(counter / 2 ** 32), 1 + KEY_ID_BYTES, 4)
  header.writeUInt32BE(counter % 2 ** 32, 1 + KEY_ID_BYTES + 4)
  const cipher = createCipheriv('chacha20-poly1305', key.key, nonceOf(header), { authTagLength: TAG_BYTES })
  cipher.setAAD(header, { plaintextLength: body.length + 1 })
  const sealed = Buffer.concat([header, cipher.update(Buffer.of(type)), cipher.update(body), cipher.final(), cipher.getAuthTag()])
  return sealed
}

export interface Opened {
  readonly counter: number
  readonly type: DatagramType
  readonly body: Buffer
}

/** The packet's contents when it opens under `key` (authentic, unaltered); undefined otherwise. */
export function open(key: DatagramKey, packet: Uint8Array): Opened | undefined {
  if (!isOurs(packet)) return undefined
  const bytes = Buffer.from(packet.buffer, packet.byteOffset, packet.length)
  const header = bytes.subarray(0, HEADER_BYTES)
  if (!header.subarray(1, 1 + KEY_ID_BYTES).equals(key.keyId)) return undefined
  const counter = header.readUInt32BE(1 + KEY_ID_BYTES) * 2 ** 32 + header.readUInt32BE(1 + KEY_ID_BYTES + 4)
  if (counter > MAX_COUNTER) return undefined
  const tag = bytes.subarray(bytes.length - TAG_BYTES)
  const ciphertext = bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES)
  try {
    const decipher = createDecipheriv('chacha20-poly1305', key.key, nonceOf(header), { authTagLength: TAG_BYTES })
    decipher.setAAD(header, { plaintextLength: ciphertext.length })
    decipher.setAuthTag(tag)
    const plain = Buffer.concat([decipher.update(ciphertext), decipher.final()])
    const type = plain[0]
    if (type !== DatagramType.Hello && type !== DatagramType.Message) return undefined
    return { counter, type, body: plain.subarray(1) }
  } catch {
    return undefined
  }
}

/** Long enough for a header, a type byte and a tag, and of our version. */
function isOurs(packet: Uint8Array): boolean {
  return packet.length >= HEADER_BYTES + 1 + TAG_BYTES && packet[0] === DATAGRAM_VERSION
}

/** The 12-byte nonce: four zero bytes and the counter. */
function nonceOf(header: Buffer): Buffer {
  const nonce = Buffer.alloc(12)
  header.copy(nonce, 4, 1 + KEY_ID_BYTES, HEADER_BYTES)
  return nonce
}

/**
 * Which counters of one key were already accepted: the highest, and a window below it (RFC 6479's
 * sliding window, as WireGuard keeps it). A counter older than the window, or seen, is refused.
 */
export class ReplayWindow {
  private highest = -1
  private readonly seen = new Uint8Array(REPLAY_WINDOW)

  /** Records `counter` and says whether it is new; call only for packets that opened. */
  accept(counter: number): boolean {
    if (counter > this.highest) {
      // Slots between the old highest and this one are now in the window, unseen.
      const cleared = Math.min(counter - this.highest, REPLAY_WINDOW)
      for (let i = 1; i <= cleared; i++) this.seen[(this.highest + i) % REPLAY_WINDOW] = 0
      this.highest = counter
      this.seen[counter % REPLAY_WINDOW] = 1
      return true
    }
    if (this.highest - counter >= REPLAY_WINDOW) return false
    const slot = counter % REPLAY_WINDOW
    if (this.seen[slot] === 1) return false
    this.seen[slot] = 1
    return true
  }
}
