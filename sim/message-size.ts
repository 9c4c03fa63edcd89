// What a message costs on the wire, for the simulator's traffic figures: the length of the JSON a
// real peer would send.
//
// Most messages are small (probes, acks, bids) and are measured once per message object: one bid
// goes to many candidates. A state message (a digest answer, an answer to a lagging bid) is new each
// time but is made of adverts and member records that are immutable and sent again and again, so it
// is measured from its parts, each part's length remembered; the result is the same number
// JSON.stringify(message).length would give.

import type { Advert, MemberRecord, Message } from '../core/index.js'

const messageSizes = new WeakMap<Message, number>()
const partSizes = new WeakMap<Advert | MemberRecord, number>()

const STATE_HEAD = '{"kind":"state","members":['.length
const STATE_MIDDLE = '],"adverts":['.length
const STATE_TAIL = ']}'.length

export function messageBytes(message: Message): number {
  let size = messageSizes.get(message)
  if (size === undefined) messageSizes.set(message, (size = measure(message)))
  return size
}

function measure(message: Message): number {
  if (message.kind !== 'state' || !isPlainState(message)) return JSON.stringify(message).length
  return STATE_HEAD + listSize(message.members) + STATE_MIDDLE + listSize(message.adverts) + STATE_TAIL
}

/** A state message with exactly its three fields in the order splitState builds them. */
function isPlainState(message: Extract<Message, { kind: 'state' }>): boolean {
  const keys = Object.keys(message)
  return keys.length === 3 && keys[0] === 'kind' && keys[1] === 'members' && keys[2] === 'adverts' &&
    Array.isArray(message.members) && Array.isArray(message.adverts)
}

function listSize(items: ReadonlyArray<Advert | MemberRecord>): number {
  let size = items.length > 0 ? items.length - 1 : 0 // the commas
  for (const item of items) {
    let part = partSizes.get(item)
    if (part === undefined) partSizes.set(item, (part = JSON.stringify(item).length))
    size += part
  }
  return size
}
