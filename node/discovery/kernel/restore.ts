// iptables-restore input from rule sets, and what iptables-save shows of the owned chains. Every
// change goes through `iptables-restore --noflush`: a table's lines between `*table` and COMMIT are
// one transaction, and declaring an owned chain (`:NAME - [0:0]`) empties it inside that same
// transaction, so a rewritten chain is never seen empty by a new connection.

import { TABLES, type ChainNames, type Hook, type Table } from './chains.js'
import type { ChainSet } from './rules.js'

export interface Changes {
  /** Writes every new or changed chain; undefined when nothing changed. */
  readonly rewrite: string | undefined
  /**
   * Deletes chains no longer wanted. A separate transaction: the nf_tables backend refuses to delete
   * a chain in the batch that also drops the last jump to it (EBUSY).
   */
  readonly remove: string | undefined
  /** `table chain` of every chain rewritten or removed: their counters start again from zero. */
  readonly replaced: ReadonlySet<string>
}

const sameRules = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  a !== undefined && b !== undefined && a.length === b.length && a.every((rule, i) => rule === b[i])

export function changes(applied: ChainSet, desired: ChainSet): Changes {
  const rewrite: string[] = []
  const remove: string[] = []
  const replaced = new Set<string>()
  for (const table of TABLES) {
    const written = [...desired[table]].filter(([chain, rules]) => !sameRules(applied[table].get(chain), rules))
    const gone = [...applied[table].keys()].filter((chain) => !desired[table].has(chain))
    if (written.length > 0) {
      // Declarations first: a rule may jump to a chain declared after it in the map.
      rewrite.push(`*${table}`, ...written.map(([chain]) => `:${chain} - [0:0]`))
      for (const [chain, rules] of written) rewrite.push(...rules.map((rule) => `-A ${chain} ${rule}`))
      rewrite.push('COMMIT')
    }
    if (gone.length > 0) remove.push(`*${table}`, ...gone.map((chain) => `:${chain} - [0:0]`), ...gone.map((chain) => `-X ${chain}`), 'COMMIT')
    for (const [chain] of written) if (applied[table].has(chain)) replaced.add(`${table} ${chain}`)
    for (const chain of gone) replaced.add(`${table} ${chain}`)
  }
  return { rewrite: text(rewrite), remove: text(remove), replaced }
}

/** Creates the base chains (empty) and inserts the hooks first in their built-in chains. */
export function installInput(hooks: readonly Hook[], base: ReadonlyArray<{ table: Table; chain: string }>): string {
  const lines: string[] = []
  for (const table of TABLES) {
    const chains = base.filter((entry) => entry.table === table)
    const jumps = hooks.filter((hook) => hook.table === table)
    if (chains.length === 0 && jumps.length === 0) continue
    lines.push(`*${table}`, ...chains.map(({ chain }) => `:${chain} - [0:0]`), ...jumps.map((hook) => `-I ${hook.chain} 1 ${hook.rule}`), 'COMMIT')
  }
  return text(lines)!
}

/** What iptables-save shows of one table: owned chains and jumps to them from other chains. */
export interface OwnedState {
  readonly chains: Map<Table, string[]>
  /** Rules outside owned chains that jump into one, as `-A CHAIN args` (deleted by `-D CHAIN args`). */
  readonly jumps: Map<Table, string[]>
  /** How many rules each owned chain holds, by `table chain`. */
  readonly ruleCounts: Map<string, number>
}

export function ownedState(save: string, names: ChainNames): OwnedState {
  const chains = new Map<Table, string[]>()
  const jumps = new Map<Table, string[]>()
  const ruleCounts = new Map<string, number>()
  for (const [table, line] of linesByTable(save)) {
    const declared = /^:(\S+)/.exec(line)
    if (declared !== null && declared[1]!.startsWith(names.prefix)) chains.set(table, [...(chains.get(table) ?? []), declared[1]!])
    const rule = /^(?:\[\d+:\d+\] )?-A (\S+) (.*)$/.exec(line)
    if (rule !== null && rule[1]!.startsWith(names.prefix)) ruleCounts.set(`${table} ${rule[1]}`, (ruleCounts.get(`${table} ${rule[1]}`) ?? 0) + 1)
    if (rule === null || rule[1]!.startsWith(names.prefix)) continue
    const target = /(?:^| )-[jg] (\S+)/.exec(rule[2]!)
    if (target !== null && target[1]!.startsWith(names.prefix)) jumps.set(table, [...(jumps.get(table) ?? []), `-A ${rule[1]} ${rule[2]}`])
  }
  return { chains, jumps, ruleCounts }
}

/**
 * What is missing of what this forwarder wrote (a jump, a chain, rules of a chain), as a sentence,
 * or undefined when everything is there: something else (a firewall reload, `iptables -F`) changed
 * the tables.
 */
export function missingRules(state: OwnedState, hooks: readonly Hook[], applied: ChainSet): string | undefined {
  for (const hook of hooks) {
    const target = /-j (\S+)$/.exec(hook.rule)![1]
    const found = (state.jumps.get(hook.table) ?? []).some((jump) => jump.startsWith(`-A ${hook.chain} `) && jump.endsWith(`-j ${target}`))
    if (!found) return `the jump from ${hook.table} ${hook.chain} to ${target} is gone`
  }
  for (const table of TABLES) {
    for (const [chain, rules] of applied[table]) {
      if (!(state.chains.get(table) ?? []).includes(chain)) return `chain ${table} ${chain} is gone`
      const count = state.ruleCounts.get(`${table} ${chain}`) ?? 0
      if (count !== rules.length) return `chain ${table} ${chain} holds ${count} rules, not ${rules.length}`
    }
  }
  return undefined
}

/**
 * Removes every owned chain and every jump to one, in two transactions (the same EBUSY as above):
 * first the jumps go and the chains are emptied, then the chains are deleted.
 */
export function removalInputs(state: OwnedState): [string | undefined, string | undefined] {
  const unhook: string[] = []
  const drop: string[] = []
  for (const table of TABLES) {
    const chains = state.chains.get(table) ?? []
    const jumps = state.jumps.get(table) ?? []
    if (chains.length === 0 && jumps.length === 0) continue
    unhook.push(`*${table}`, ...jumps.map((jump) => `-D ${jump.slice(3)}`), ...chains.map((chain) => `:${chain} - [0:0]`), 'COMMIT')
    if (chains.length > 0) drop.push(`*${table}`, ...chains.map((chain) => `-X ${chain}`), 'COMMIT')
  }
  return [text(unhook), text(drop)]
}

/** One counted rule's figures, from `iptables-save -c`. */
export interface RuleCounter {
  readonly table: Table
  readonly chain: string
  readonly comment: string
  readonly packets: number
  readonly bytes: number
}

/** The counters of owned rules that carry a comment (the counted ones). */
export function counters(save: string, names: ChainNames): RuleCounter[] {
  const found: RuleCounter[] = []
  for (const [table, line] of linesByTable(save)) {
    const match = /^\[(\d+):(\d+)\] -A (\S+) .*--comment "([^"]*)"/.exec(line)
    if (match === null || !match[3]!.startsWith(names.prefix)) continue
    found.push({ table, chain: match[3]!, comment: match[4]!, packets: Number(match[1]), bytes: Number(match[2]) })
  }
  return found
}

/** iptables-save's lines with the table each is in; tables the forwarder does not write are skipped. */
function* linesByTable(save: string): Generator<[Table, string]> {
  let table: Table | undefined
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) {
      const name = line.slice(1).trim()
      table = (TABLES as readonly string[]).includes(name) ? (name as Table) : undefined
    } else if (table !== undefined) yield [table, line]
  }
}

const text = (lines: readonly string[]): string | undefined => (lines.length === 0 ? undefined : `${lines.join('\n')}\n`)
