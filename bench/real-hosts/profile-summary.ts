// Where agents' CPU went in a window of wall time, from the profiles `npm run bench -- real-hosts
// --profile DIR` writes (profiled-agent.mjs): the busy samples of every file in the window, summed
// over the agents, as shares of all of them — by function (self and inclusive) and by package.
//
//   node --import tsx bench/real-hosts/profile-summary.ts --from 21:17:00.493 --ms 2200 DIR/*.cpuprofile
//   node --import tsx bench/real-hosts/profile-summary.ts --from … --ms … --under <function> DIR/*.cpuprofile
//
//   --from T     the window's start: an ISO time, or HH:MM:SS[.mmm] of today in UTC (as the bench logs
//                "heal at …")
//   --ms N       the window's length (default 2000)
//   --top N      rows per table (default 40)
//   --under F    instead: what ran under frames whose "name file:line" starts with F, inclusive
//
// A sample counts as busy unless V8 marked it idle; "(garbage collector)" and "(program)" count.

import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

interface CallFrame { readonly functionName: string; readonly url: string; readonly lineNumber: number }
interface ProfileNode { readonly id: number; readonly callFrame: CallFrame; readonly children?: readonly number[] }
interface Profile {
  readonly nodes: readonly ProfileNode[]
  readonly startTime: number
  readonly samples: readonly number[]
  readonly timeDeltas: readonly number[]
  readonly startWall: number
  readonly startHr: number
}

function parseFrom(text: string): number {
  const clock = /^(\d{2}):(\d{2}):(\d{2}(?:\.\d{1,3})?)$/.exec(text)
  if (clock !== null) {
    const today = new Date()
    return Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate(), Number(clock[1]), Number(clock[2])) + Math.round(Number(clock[3]) * 1000)
  }
  const at = Date.parse(text)
  if (Number.isNaN(at)) throw new Error(`--from: expected an ISO time or HH:MM:SS.mmm (UTC), got ${JSON.stringify(text)}`)
  return at
}

const label = (frame: CallFrame): string =>
  `${frame.functionName === '' ? '(anonymous)' : frame.functionName} ${frame.url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}:${frame.lineNumber}`

/** The package a frame belongs to: its node_modules name, `peer` for this project's build, `node:x` for Node's own. */
function packageOf(frame: CallFrame): string {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame.url)
  if (inModules !== null) return inModules[1]!
  if (frame.url.includes('/dist/')) return 'peer'
  if (frame.url.startsWith('node:')) return `node:${frame.url.slice(5).split('/')[0]}`
  return frame.url === '' ? frame.functionName : frame.url
}

/** Calls `each` with the stack (leaf first) of every busy sample of `profile` in [from, to). */
function busySamples(profile: Profile, from: number, to: number, each: (stack: readonly ProfileNode[]) => void): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i]!
    const wall = profile.startWall + (at - profile.startHr) / 1000
    if (wall < from || wall >= to) continue
    const leaf = byId.get(profile.samples[i]!)!
    if (leaf.callFrame.functionName === '(idle)') continue
    const stack: ProfileNode[] = []
    for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) stack.push(byId.get(id)!)
    each(stack)
  }
}

function count(into: Map<string, number>, key: string): void {
  into.set(key, (into.get(key) ?? 0) + 1)
}

function table(title: string, counts: Map<string, number>, total: number, top: number): string {
  const rows = [...counts].sort((a, b) => b[1] - a[1]).slice(0, top)
  return [`--- ${title}`, ...rows.map(([key, n]) => `${((n / total) * 100).toFixed(1).padStart(5)} %  ${String(n).padStart(6)}  ${key}`)].join('\n')
}

try {
  const { values, positionals } = parseArgs({
    options: { from: { type: 'string' }, ms: { type: 'string', default: '2000' }, top: { type: 'string', default: '40' }, under: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  })
  if (values.from === undefined) throw new Error('--from: the window\'s start is required')
  if (positionals.length === 0) throw new Error('no profile files given')
  const number = (flag: 'ms' | 'top'): number => {
    const text = values[flag]!
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`--${flag}: expected a whole number ≥ 1, got ${JSON.stringify(text)}`)
    return Number(text)
  }
  const from = parseFrom(values.from)
  const to = from + number('ms')
  const top = number('top')
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const packages = new Map<string, number>()
  let total = 0
  let under = 0
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
    if (typeof profile.startWall !== 'number') throw new Error(`${file}: not written by profiled-agent.mjs (no startWall)`)
    busySamples(profile, from, to, (stack) => {
      total++
      if (values.under !== undefined) {
        const at = stack.findIndex((node) => label(node.callFrame).startsWith(values.under!))
        if (at < 0) return
        under++
        for (const key of new Set(stack.slice(0, at).map((node) => label(node.callFrame)))) count(inclusive, key)
        return
      }
      count(self, label(stack[0]!.callFrame))
      for (const key of new Set(stack.map((node) => label(node.callFrame)))) count(inclusive, key)
      for (const key of new Set(stack.map((node) => packageOf(node.callFrame)))) count(packages, key)
    })
  }
  if (total === 0) throw new Error(`no busy sample between ${new Date(from).toISOString()} and ${new Date(to).toISOString()} in ${positionals.length} files`)
  const lines = [`${total} busy samples (${positionals.length} files, ${new Date(from).toISOString()} + ${to - from} ms)`]
  if (values.under !== undefined) lines.push(`${under} of them under ${values.under}`, table('inclusive, under it', inclusive, total, top))
  else lines.push(table('self', self, total, top), table('inclusive', inclusive, total, top), table('by package, inclusive', packages, total, top))
  process.stdout.write(`${lines.join('\n')}\n`)
} catch (error) {
  process.stderr.write(`profile-summary: ${(error as Error).message}\n`)
  process.exitCode = 1
}
