// What the endpoint registry was last computed from, to tell cheaply whether it may differ now.

import type { PeerId, PeerView, ServiceSpec } from '../../core/index.js'
import type { RegistryInputs } from './registry.js'

/**
 * The registry is a function of its inputs, and the agent hands them over after every input to its
 * machine — in an idle cluster ~15 times a second, each one a probe or an ack that changes nothing the
 * registry reads. Recomputing each time cost a timer of its own and a pass over every service and peer
 * (as many wake-ups as the probes themselves). The desired services and the peers' views are immutable
 * values the agent replaces on change, so the same objects mean the same content; a peer's address and
 * whether it is reached through a relay come from its connections and are compared as values.
 */
export class InputsSignature {
  private constructor(
    private readonly services: readonly ServiceSpec[],
    private readonly peers: readonly PeerView[],
    private readonly addresses: readonly (string | undefined)[],
    private readonly tunnelled: readonly boolean[],
  ) {}

  static of(inputs: RegistryInputs): InputsSignature {
    const ids: PeerId[] = inputs.peers.map((peer) => peer.id)
    return new InputsSignature(
      inputs.services,
      inputs.peers,
      ids.map((id) => inputs.addressOf(id)),
      ids.map((id) => inputs.tunnelled?.(id) ?? false),
    )
  }

  /** Whether `inputs` are what this signature was taken of: the registry computed from them is the same. */
  matches(inputs: RegistryInputs): boolean {
    if (inputs.services !== this.services || inputs.peers.length !== this.peers.length) return false
    for (let i = 0; i < this.peers.length; i++) {
      const peer = inputs.peers[i]!
      if (peer !== this.peers[i]) return false
      if (inputs.addressOf(peer.id) !== this.addresses[i]) return false
      if ((inputs.tunnelled?.(peer.id) ?? false) !== this.tunnelled[i]) return false
    }
    return true
  }
}
