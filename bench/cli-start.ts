// What a `peer` command costs before it does anything: the CPU (user + system) of starting the built
// bin for one command's --help, which loads the command and everything it imports and nothing else
// (cli/main.ts loads only the command run). Client commands import units through their client.ts
// faces, which load no package; `agent` loads the whole agent (libp2p, Automerge, the runtime).
// One JSON line per command: CPU per start, median and max of --runs, from bash's `times` (the CPU
// of the children of a shell that runs nothing else).
//
//   npm run bench -- cli-start [--cli dist/bin/main.js] [--build] [--runs 10] [--commands status,ps,agent]

import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { optionOf } from './bench-args.js'
import { builtCli } from './built-cli.js'

const args = process.argv.slice(2)
const log = (line: string): void => void process.stderr.write(`[cli-start] ${line}\n`)
const runs = Number(optionOf(args, '--runs') ?? '10')
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a whole number ≥ 1, not ${optionOf(args, '--runs')}`)
const commands = (optionOf(args, '--commands') ?? 'status,ps,nodes,apply,logs,secret,why,agent,sim').split(',')
const cli = builtCli(args, log)

/** CPU seconds of one start of `peer <command> --help`: the shell's children's user + system time. */
function cpuOfOneStart(command: string): number {
  const script = `"$0" "$1" "$2" --help > /dev/null || exit 3; times`
  const result = spawnSync('bash', ['-c', script, process.execPath, cli, command], { encoding: 'utf8' })
  if (result.status !== 0) throw new Error(`peer ${command} --help failed (exit ${result.status}): ${result.stderr.trim()}`)
  // `times` prints the shell's own times, then its children's: "0m0.412s 0m0.061s".
  const children = result.stdout.trim().split('\n').at(-1)!
  const seconds = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]))
  if (seconds.length !== 2) throw new Error(`cannot read bash's times: ${JSON.stringify(children)}`)
  return seconds[0]! + seconds[1]!
}

for (const command of commands) {
  const loadBefore = loadavg()[0]!
  const samples = Array.from({ length: runs }, () => cpuOfOneStart(command)).sort((a, b) => a - b)
  console.log(JSON.stringify({
    bench: 'cli-start',
    command,
    runs,
    cpuMsMedian: Math.round(samples[Math.floor(samples.length / 2)]! * 1000),
    cpuMsMax: Math.round(samples.at(-1)! * 1000),
    loadBefore: Number(loadBefore.toFixed(2)),
    loadAfter: Number(loadavg()[0]!.toFixed(2)),
  }))
}
