// `peer top`: what each peer and each service really uses beside what it requested, refreshed in
// place every few seconds like top(1). Usage is what each peer measured of its own tasks and put in
// its advert (every 10 s), so the numbers cover the whole cluster from any agent. `--json` prints the
// agent's answer once; so does a plain run whose output is not a terminal (a pipe gets one frame).

import type { Command } from 'commander'
import type { TopAmount, TopAnswer } from '../../node/control/index.js'
import { addPeerOption, ask, printJson, shortPeer, type PeerOptions } from '../agent-client.js'
import { UsageError } from '../exit-codes.js'
import { percent, table } from '../table.js'

interface TopOptions extends PeerOptions {
  json?: boolean
  interval: string
}

export function registerTop(program: Command): void {
  addPeerOption(
    program
      .command('top')
      .description('CPU and memory used vs requested, per peer and per service, refreshing (Ctrl-C ends)'),
  )
    .option('--json', 'print the agent\'s answer once, as JSON')
    .option('--interval <seconds>', 'seconds between refreshes', '2')
    .action(async (options: TopOptions) => {
      const intervalMs = Number(options.interval) * 1000
      if (!Number.isFinite(intervalMs) || intervalMs < 100) throw new UsageError(`--interval: expected a number of seconds of at least 0.1, got ${JSON.stringify(options.interval)}`)
      if (options.json) return printJson(await ask(options, 'GET /v1/top'))
      if (!process.stdout.isTTY) return void process.stdout.write(topText(await ask(options, 'GET /v1/top')))
      await refreshUntilInterrupted(options, intervalMs)
    })
}

async function refreshUntilInterrupted(options: TopOptions, intervalMs: number): Promise<void> {
  let stop = false
  const interrupted = new Promise<void>((resolve) => process.once('SIGINT', () => {
    stop = true
    resolve()
  }))
  while (!stop) {
    const answer = await ask(options, 'GET /v1/top')
    // Home the cursor and clear the screen, then draw the frame: no flicker of an empty screen first.
    process.stdout.write(`\x1b[H\x1b[2J${new Date().toLocaleTimeString()}  peer top (every ${intervalMs / 1000}s, Ctrl-C ends)\n\n${topText(answer)}`)
    await Promise.race([interrupted, new Promise((resolve) => setTimeout(resolve, intervalMs))])
  }
}

/** The peers table, then the services table. */
export function topText(answer: TopAnswer): string {
  const peers = table(['PEER', 'STATE', 'TASKS', 'CPU USED', 'CPU REQ', 'CPU CAP', 'MEM USED', 'MEM REQ', 'MEM CAP'], answer.peers.map((row) => [
    row.self ? `${shortPeer(row.peer)} *` : shortPeer(row.peer),
    row.state,
    measuredCell(row.tasks, row.measured),
    usedCell(row.used, 'cpu', row.requested),
    `${row.requested.cpuMilli}m`,
    `${row.capacity.cpuMilli}m`,
    usedCell(row.used, 'memory', row.requested),
    `${row.requested.memoryMiB}Mi`,
    `${row.capacity.memoryMiB}Mi`,
  ]))
  const services = answer.services.length === 0
    ? 'no tasks run'
    : table(['SERVICE', 'TASKS', 'CPU USED', 'CPU REQ', 'MEM USED', 'MEM REQ'], answer.services.map((row) => [
      row.service,
      measuredCell(row.tasks, row.measured),
      usedCell(row.used, 'cpu', row.requested),
      `${row.requested.cpuMilli}m`,
      usedCell(row.used, 'memory', row.requested),
      `${row.requested.memoryMiB}Mi`,
    ]))
  return `${peers}\n\n${services}\n`
}

/** `3`, or `3 (2 measured)` while some tasks have no measurement yet. */
function measuredCell(tasks: number, measured: number): string {
  return measured === tasks ? String(tasks) : `${tasks} (${measured} measured)`
}

/** `120m (24%)`: used, and its share of what was requested; `-` before any measurement. */
function usedCell(used: TopAmount | null, kind: 'cpu' | 'memory', requested: TopAmount): string {
  if (used === null) return '-'
  return kind === 'cpu'
    ? `${used.cpuMilli}m (${percent(used.cpuMilli, requested.cpuMilli)})`
    : `${used.memoryMiB}Mi (${percent(used.memoryMiB, requested.memoryMiB)})`
}
