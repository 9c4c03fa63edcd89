// gossipsub checks a message's signature before it looks the message up among those it has seen,
// so every copy a peer receives from its mesh (up to D = 6 of one message) costs an Ed25519
// verification — on ten agents applying 100 replicas that was an eighth of their CPU. Given a
// fast id, gossipsub drops a copy it has seen by that id first. The id is the author and its
// sequence number, read from the raw message: what the signed message id is made of (author's
// key and seqno), without decoding the key. It is safe as a duplicate key because gossipsub
// records a fast id only after that message's signature verified: a forged copy with another's
// author and seqno is verified, rejected and not recorded, so it cannot shadow the real one.

/** The fields of a raw gossipsub message that name it (RPC.Message). */
interface RawGossipMessage {
  readonly from?: Uint8Array
  readonly seqno?: Uint8Array
}

/** Author and sequence number as one string; '' for an unsigned message (rejected under StrictSign, never recorded). */
export function fastGossipMessageId(message: RawGossipMessage): string {
  if (message.from === undefined || message.seqno === undefined) return ''
  return `${Buffer.from(message.from.buffer, message.from.byteOffset, message.from.byteLength).toString('base64')}:${Buffer.from(message.seqno.buffer, message.seqno.byteOffset, message.seqno.byteLength).toString('hex')}`
}
