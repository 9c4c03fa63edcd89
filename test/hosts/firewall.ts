// iptables rules inside one host's namespace, grouped under a label so a fault removes exactly the
// rules it added (a heal must not lift a crash's drop, nor a crash's restart lift a partition).
// DROP, never REJECT: the other side must see silence, as with a cut cable or a dead machine.

import { inNamespace, run } from './command.js'

interface Rule {
  readonly chain: 'INPUT' | 'OUTPUT'
  readonly match: readonly string[]
}

export class Firewall {
  private readonly rules = new Map<string, Rule[]>()

  constructor(private readonly namespace: string) {}

  /** Inserts `DROP` for packets matching `match` in `chain`, first in line, under `label`. */
  async drop(label: string, chain: Rule['chain'], match: readonly string[]): Promise<void> {
    await run(inNamespace(this.namespace, ['iptables', '-w', '-I', chain, ...match, '-j', 'DROP']))
    this.rules.set(label, [...(this.rules.get(label) ?? []), { chain, match }])
  }

  /** Deletes every rule added under `label`. */
  async lift(label: string): Promise<void> {
    const rules = this.rules.get(label) ?? []
    this.rules.delete(label)
    for (const rule of rules) await run(inNamespace(this.namespace, ['iptables', '-w', '-D', rule.chain, ...rule.match, '-j', 'DROP']))
  }

  has(label: string): boolean {
    return (this.rules.get(label)?.length ?? 0) > 0
  }
}
