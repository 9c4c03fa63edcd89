// `peer plan -f app.yaml [--inventory peers.yaml] [--json]`: where would each slot go, and why?
// Runs the same placement core as the agents, over the live cluster as one agent sees it (every peer's
// capacity, labels and tasks, and the other desired services) or over a written-down inventory.
// Side-effect free either way.

import type { Command } from 'commander'
import { stringify } from 'yaml'
import { assumeSecretsExist, plan, REJECTION_TEXT, resolveSecretVersions, toWrittenForm, unresolvedSecrets, type PeerView, type PlanResult, type RejectionCount, type ServiceSpec } from '../../core/index.js'
import { formatFileError, loadInventory } from '../files.js'
import { addSpecFileOptions, loadSpecFiles, problemLines, type SpecFileOptions } from '../spec-files.js'
import { addPeerOption, ask, type PeerOptions } from '../agent-client.js'
import { EXIT_OK, EXIT_UNPLACEABLE, UsageError } from '../exit-codes.js'
import { formatScore, percent, table } from '../table.js'

interface PlanOptions extends PeerOptions, SpecFileOptions {
  file: string[]
  inventory?: string
  json?: boolean
  explain?: string
  showSpecs?: boolean
}

export function registerPlan(program: Command): void {
  addSpecFileOptions(addPeerOption(
    program
      .command('plan')
      .description('show where each slot would be placed and why, without changing anything')
      .requiredOption('-f, --file <path...>', 'service spec file(s), YAML or JSON')
      .option('--inventory <path>', 'plan over this peer inventory (name, capacity, labels, existing tasks) instead of the live cluster'),
  ))
    .option('--show-specs', 'also print the services as peer reads them (what a Compose file was translated into)')
    .option('--explain <service>', 'also list every candidate peer of one service with its bid or rejection')
    .option('--json', 'print a stable machine-readable plan')
    .action(async (options: PlanOptions) => {
      process.exitCode = await runPlan(options)
    })
}

export async function runPlan(options: PlanOptions): Promise<number> {
  const loaded = await loadSpecFiles(options.file, options)
  if (!loaded.ok) throw new UsageError(problemLines(loaded.errors))
  if (loaded.value.warnings.length > 0) process.stderr.write(`${problemLines(loaded.value.warnings)}\n`)
  const services = loaded.value.services
  // Secrets a Compose file creates from files on apply count as existing; others are looked up.
  const declared = new Set(loaded.value.secrets.filter((s) => !s.external).map((s) => s.name))
  let peers: PeerView[]
  let desired: ServiceSpec[] = services
  if (options.inventory !== undefined) {
    // An inventory lists no secrets: the ones the files name are taken to exist.
    desired = services.map(assumeSecretsExist)
    const inventory = await loadInventory(options.inventory, desired)
    if (!inventory.ok) throw new UsageError(inventory.errors.map(formatFileError).join('\n'))
    peers = inventory.value
  } else {
    // The live cluster: the files' services replace their namesakes among the desired ones, whose
    // tasks (already running) hold their resources. Their secrets are resolved as the cluster would,
    // so one that does not exist shows as pending, and a spec the cluster runs keeps its version.
    const live = await ask(options, 'GET /v1/cluster')
    const named = new Set(services.map((s) => s.name))
    // An agent from before secrets answers without them.
    const versions = new Map((live.secrets ?? []).map((secret) => [secret.name, secret.version]))
    peers = live.peers
    desired = [...live.services.filter((s) => !named.has(s.name)), ...services.map((s) => resolveSecretVersions(s, (name) => versions.get(name) ?? (declared.has(name) ? 1 : undefined)))]
  }
  if (options.explain !== undefined && !services.some((s) => s.name === options.explain)) {
    throw new UsageError(`--explain: no service named ${JSON.stringify(options.explain)} in ${options.file.join(', ')}`)
  }

  const result = plan({ services: desired, peers, now: 0 })
  // As written: secret names without the versions this plan assumed.
  const shown = options.showSpecs ? services.map((s) => toWrittenForm(unresolvedSecrets(s))) : undefined
  if (options.json) process.stdout.write(`${JSON.stringify(shown === undefined ? planJson(result) : { ...planJson(result), specs: shown }, null, 2)}\n`)
  else process.stdout.write((shown === undefined ? '' : specsText(shown)) + planText(result, options.explain))
  return result.pending.length > 0 ? EXIT_UNPLACEABLE : EXIT_OK
}

/** Services in their written form, as a peer spec file would hold them (YAML). */
export function specsText(written: ReadonlyArray<Record<string, unknown>>): string {
  const services = Object.fromEntries(written.map(({ name, ...fields }) => [String(name), fields]))
  return `Services as peer reads them:\n\n${stringify({ services })}\n`
}

/** The stable JSON form: sorted, no timing, no input order. Fields are only ever added. */
export function planJson(result: PlanResult) {
  return {
    summary: {
      place: result.placements.length,
      pending: result.pending.length,
      stop: result.stops.length,
      keep: result.keep.length,
    },
    placements: result.placements.map((p) => ({ slot: p.slot, service: p.service, peer: p.peer, reason: p.reason, score: p.score, round: p.round })),
    pending: result.pending.map((p) => ({ slot: p.slot, service: p.service, reason: p.reason, rejections: p.rejections })),
    stops: result.stops.map((s) => ({ slot: s.task.slot, peer: s.task.peer, reason: s.reason })),
    keep: result.keep.map((t) => ({ slot: t.slot, peer: t.peer, state: t.state })),
    peers: result.peers.map((p) => ({
      peer: p.peer,
      state: p.state,
      cpuMilli: p.allocated.cpuMilli,
      cpuCapacityMilli: p.capacity.cpuMilli,
      memoryMiB: p.allocated.memoryMiB,
      memoryCapacityMiB: p.capacity.memoryMiB,
      tasks: p.tasks,
    })),
  }
}

export function planText(result: PlanResult, explain?: string): string {
  const out: string[] = []
  out.push(`Plan: ${result.placements.length} to place, ${result.stops.length} to stop, ${result.keep.length} kept, ${result.pending.length} pending`)
  if (result.placements.length > 0) {
    out.push('', table(['SLOT', 'PEER', 'REASON', 'SCORE', 'ROUND'],
      result.placements.map((p) => [p.slot, p.peer, p.reason, formatScore(p.score), String(p.round)])))
  }
  if (result.stops.length > 0) {
    out.push('', 'Stop:', table(['SLOT', 'PEER', 'REASON'], result.stops.map((s) => [s.task.slot, s.task.peer, s.reason])))
  }
  if (result.pending.length > 0) {
    out.push('', 'Pending (no peer can take these):')
    for (const p of result.pending) out.push(`  ${p.slot}: ${describeRejections(p.rejections)}`)
  }
  out.push('', 'Peers:', table(['PEER', 'STATE', 'CPU', 'MEMORY', 'TASKS'], result.peers.map((p) => [
    p.peer,
    p.state,
    `${p.allocated.cpuMilli}/${p.capacity.cpuMilli}m ${percent(p.allocated.cpuMilli, p.capacity.cpuMilli)}`,
    `${p.allocated.memoryMiB}/${p.capacity.memoryMiB}Mi ${percent(p.allocated.memoryMiB, p.capacity.memoryMiB)}`,
    String(p.tasks),
  ])))
  if (explain !== undefined) {
    const service = result.services.find((s) => s.service === explain)
    out.push('', `Candidates for ${explain}:`)
    if (service !== undefined && service.ruledOut.length > 0) {
      out.push(`  never asked: ${describeRejections(service.ruledOut)}`)
    }
    if (service === undefined || service.candidates.length === 0) {
      out.push('  none were asked: every slot already has a task, or no peer can host it')
    } else {
      out.push(table(['PEER', 'ROUND', 'OFFERED', 'WON', 'BEST SCORE', 'REJECTED'], service.candidates.map((c) => [
        c.peer,
        String(c.round),
        c.offered === undefined ? '-' : String(c.offered),
        String(c.won ?? 0),
        c.bestScore === undefined ? '-' : formatScore(c.bestScore),
        c.rejection === undefined ? '' : describeRejections([{ ...c.rejection, peers: 1 }]),
      ])))
    }
  }
  return `${out.join('\n')}\n`
}

export function describeRejections(rejections: readonly RejectionCount[]): string {
  if (rejections.length === 0) return 'no live peers to ask'
  return rejections
    .map((r) => `${r.peers} ${r.peers === 1 ? 'peer' : 'peers'}: ${REJECTION_TEXT[r.reason]}${r.detail ? ` (${r.detail})` : ''}`)
    .join('; ')
}
