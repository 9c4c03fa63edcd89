// How the protocol's membership behaves as the cluster grows: for each size and network, one run of
// sim/membership-spread.ts (N peers join, one crashes, later restarts) in its own process, so peak
// memory is that run's alone. Prints one JSON line per run: how long the crash's "dead" verdict and
// the restart's new life took to reach 50 / 99 / 99.9 % / all of the live peers' member tables, and
// what the run cost (wall, CPU, peak RSS, events), and liveBytesPerPair: the live heap and typed
// arrays after a forced garbage collection when the settled cluster reaches the crash, less what was
// live before the run, divided by peers² (what the simulated machines' full views cost per pair).
//
//   npm run bench -- scale                              (1,000 and 2,000 peers; lan, lan with 1 % loss, wan)
//   npm run bench -- scale --peers 1000,5000 --networks lan,wan --seed 2

import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { optionOf } from './bench-args.js'
import { membershipSpread } from '../sim/membership-spread.js'

interface Setting {
  readonly network: 'lan' | 'wan'
  readonly loss?: number
}

/** `lan`, `wan`, or `lan@0.01` (a profile with another loss rate). */
function parseSetting(text: string): Setting {
  const [network, lossText] = text.split('@')
  if (network !== 'lan' && network !== 'wan') throw new Error(`--networks: "${text}" is not lan, wan, lan@LOSS or wan@LOSS`)
  if (lossText === undefined) return { network }
  const loss = Number(lossText)
  if (!(loss >= 0 && loss < 1)) throw new Error(`--networks: the loss in "${text}" must be a number in [0, 1)`)
  return { network, loss }
}

function runOne(peers: number, seed: number, setting: Setting): void {
  const started = performance.now()
  const collect = (globalThis as { gc?: () => void }).gc
  const live = (): number => {
    collect?.()
    const memory = process.memoryUsage()
    return memory.heapUsed + memory.arrayBuffers
  }
  const before = live()
  const liveBytes = collect === undefined ? undefined : (): number => live() - before
  const result = membershipSpread({
    peers, seed, network: setting.network,
    ...(setting.loss !== undefined ? { loss: setting.loss } : {}),
    ...(liveBytes !== undefined ? { liveBytes } : {}),
  })
  const wallMs = performance.now() - started
  const cpu = process.cpuUsage()
  console.log(JSON.stringify({
    bench: 'scale',
    measure: 'membership-spread',
    ...result,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
  }))
}

const args = process.argv.slice(2)
const seed = Number(optionOf(args, '--seed') ?? '1')
if (!Number.isSafeInteger(seed)) throw new Error('--seed must be an integer')
const one = optionOf(args, '--one')
if (one !== undefined) {
  const [peersText, settingText] = one.split(':')
  runOne(Number(peersText), seed, parseSetting(settingText ?? 'lan'))
} else {
  const sizes = (optionOf(args, '--peers') ?? '1000,2000').split(',').map(Number)
  for (const size of sizes) if (!Number.isSafeInteger(size) || size < 3) throw new Error(`--peers: ${size} is not a whole number of at least 3`)
  const settings = (optionOf(args, '--networks') ?? 'lan,lan@0.01,wan').split(',').map(parseSetting)
  const self = fileURLToPath(import.meta.url)
  for (const size of sizes) {
    for (const setting of settings) {
      const label = `${size}:${setting.network}${setting.loss !== undefined ? `@${setting.loss}` : ''}`
      // Room for the N² member records of a few thousand peers (Node's default heap limit is ≈ 4 GB).
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', '--max-old-space-size=20480', self, '--one', label, '--seed', String(seed)], { stdio: 'inherit' })
      if (child.status !== 0) process.exit(child.status ?? 1)
    }
  }
}
