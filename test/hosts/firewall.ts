// iptables rules inside one host's namespace, grouped under a label so a fault removes exactly the
// rules it added (a heal must not lift a crash's drop, nor a crash's restart lift a partition).
// DROP, never REJECT: the other side must see silence, as with a cut cable or a dead machine.

import { inNamespace, runWithInput } from './command.js'

export interface Rule {
  readonly chain: 'INPUT' | 'OUTPUT'
  readonly match: readonly string[]
}

export class Firewall {
  private readonly rules = new Map<string, Rule[]>()

  constructor(private readonly namespace: string) {}

  /** Inserts `DROP` for packets matching `match` in `chain`, first in line, under `label`. */
  drop(label: string, chain: Rule['chain'], match: readonly string[]): Promise<void> {
    return this.dropAll(label, [{ chain, match }])
  }

  /**
   * Inserts `DROP` for each of `rules` under `label`, all in one step: a partition takes a dozen
   * rules per host, and one iptables command each (its own process, in turn) spread a cut or a heal
   * over up to a second on a loaded machine — a heal measured from its start counted that second.
   */
  async dropAll(label: string, rules: readonly Rule[]): Promise<void> {
    await this.restore(rules.map((rule) => ['-I', rule.chain, ...rule.match, '-j', 'DROP']))
    this.rules.set(label, [...(this.rules.get(label) ?? []), ...rules])
  }

  /** Deletes every rule added under `label`, all in one step. */
  async lift(label: string): Promise<void> {
    const rules = this.rules.get(label) ?? []
    this.rules.delete(label)
    await this.restore(rules.map((rule) => ['-D', rule.chain, ...rule.match, '-j', 'DROP']))
  }

  /** Applies `commands` to the filter table as one transaction (iptables-restore, keeping the other rules). */
  private async restore(commands: readonly (readonly string[])[]): Promise<void> {
    if (commands.length === 0) return
    const input = `*filter\n${commands.map((command) => command.join(' ')).join('\n')}\nCOMMIT\n`
    await runWithInput(inNamespace(this.namespace, ['iptables-restore', '-w', '--noflush']), input)
  }

  has(label: string): boolean {
    return (this.rules.get(label)?.length ?? 0) > 0
  }
}
