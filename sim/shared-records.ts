// Member records shared between simulated peers. A record is a value (peer, incarnation, status) and
// no machine changes one (test/sim/shared-messages.test.ts freezes them to prove it), so machines
// that make the same record can hold one object. Most records a machine holds are the broadcast's
// own objects already; the ones it makes itself — a member first heard of through its advert, which
// can outrun the member's own record — were a quarter of all record objects at 1,000 peers, ≈ 12
// bytes per pair of peers. Each peer's latest record is kept, so a wave of machines making the
// record of one life shares it, and what is kept stays one record a peer.

import type { MemberRecord, MemberStatus, PeerId } from '../core/index.js'

export function sharedMemberRecords(): (peer: PeerId, incarnation: number, status: MemberStatus) => MemberRecord {
  const latest = new Map<PeerId, MemberRecord>()
  return (peer, incarnation, status) => {
    const known = latest.get(peer)
    if (known !== undefined && known.incarnation === incarnation && known.status === status) return known
    const record: MemberRecord = { peer, incarnation, status }
    latest.set(peer, record)
    return record
  }
}
