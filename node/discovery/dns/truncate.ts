// Encoding a reply within a size limit. Over UDP a reply larger than the client accepts (512 bytes,
// or its EDNS size) goes out cut short with the TC flag, which tells the client to ask again over
// TCP, where the limit is the 2-byte length prefix (65,535 bytes).

import * as packet from 'dns-packet'
import type { Answer, Packet } from 'dns-packet'

export const TCP_MESSAGE_LIMIT_BYTES = 65535

const TRUNCATED = 1 << 9
const HEADER_BYTES = 12

/** The encoded reply, whole if it fits in `limitBytes`, otherwise the answers that fit with TC set. */
export function encodeWithin(response: Packet, limitBytes: number): { bytes: Buffer; truncated: boolean } {
  const whole = packet.encode(response)
  if (whole.length <= limitBytes) return { bytes: whole, truncated: false }
  // The additional section only helps; the OPT record stays, so the client still sees our EDNS size.
  const opt = (response.additionals ?? []).filter((record) => record.type === 'OPT')
  const cut: Packet = { ...response, flags: (response.flags ?? 0) | TRUNCATED, answers: [], authorities: [], additionals: opt }
  let size = packet.encodingLength(cut)
  const kept: Answer[] = []
  for (const answer of response.answers ?? []) {
    const length = packet.encodingLength({ answers: [answer] }) - HEADER_BYTES
    if (size + length > limitBytes) break
    kept.push(answer)
    size += length
  }
  return { bytes: packet.encode({ ...cut, answers: kept }), truncated: true }
}
