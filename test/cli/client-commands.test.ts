// The commands that ask a running agent (status, ps, nodes, why, events, logs, history): what they do
// without one (a one-line error naming the socket and `peer agent`, exit 1), their usage errors and
// help, and the pure formatting of their tables.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import type { HistoryEntry } from '../../crdt/index.js'
import { routeTarget, type AgentEvent, type NodeRow, type ServiceRow, type TaskRow, type WhyAnswer } from '../../node/control/index.js'
import {
  clockTime,
  cpuCell,
  labelsCell,
  memoryCell,
  relativeTime,
  shortPeer,
  socketPath,
} from '../../cli/agent-client.js'
import { eventLine } from '../../cli/commands/events.js'
import { historyText } from '../../cli/commands/history.js'
import { logsQuery, parseTail } from '../../cli/commands/logs.js'
import { nodesText } from '../../cli/commands/nodes.js'
import { psText } from '../../cli/commands/ps.js'
import { serviceText, statusText } from '../../cli/commands/status.js'
import { whyText } from '../../cli/commands/why.js'
import { UsageError } from '../../cli/exit-codes.js'
import { concurrencyLimit, runCli, type CliResult } from './run-cli.js'

// --- Without an agent ---------------------------------------------------------------------------

const noAgent = suite('agent commands without an agent')

const SOCKET = '/nonexistent/x.sock'
const COMMANDS: readonly (readonly string[])[] = [
  ['status'],
  ['status', 'web'],
  ['ps'],
  ['ps', '--service', 'web'],
  ['nodes'],
  ['why', 'web'],
  ['events'],
  ['events', '-f'],
  ['logs', 'web/0'],
  ['logs', '-f', '--tail', '10', 'web/0'],
  ['history'],
  ['history', 'web', '--json'],
]
const HELP = ['status', 'ps', 'nodes', 'why', 'events', 'logs', 'history'] as const

// The runs are independent child processes: queue them all up front, a few at a time (each has its
// own timeout from when it starts), and let each test await its own.
const PARALLEL = Math.min(6, Math.max(2, availableParallelism()))
let runs = new Map<string, Promise<CliResult>>()
const limited = concurrencyLimit(PARALLEL)
const run = (args: readonly string[]): Promise<CliResult> => {
  const key = args.join(' ')
  let result = runs.get(key)
  if (result === undefined) {
    result = limited(() => runCli(args))
    runs.set(key, result)
  }
  return result
}

noAgent.before(() => {
  runs = new Map()
  for (const args of COMMANDS) void run([...args, '--peer', SOCKET]).catch(() => undefined)
  for (const name of HELP) void run([name, '--help']).catch(() => undefined)
  void run(['logs', '--tail', '-3', 'a/0', '--peer', SOCKET]).catch(() => undefined)
})

for (const args of COMMANDS) {
  noAgent(`peer ${args.join(' ')} --peer ${SOCKET}: exits 1 with one line naming the socket and peer agent`, async () => {
    const result = await run([...args, '--peer', SOCKET])
    assert.is(result.code, 1, result.stderr)
    assert.is(result.stdout, '')
    const lines = result.stderr.trimEnd().split('\n')
    assert.is(lines.length, 1, result.stderr)
    assert.ok(lines[0]!.includes(SOCKET), result.stderr)
    assert.ok(lines[0]!.includes('peer agent'), result.stderr)
  })
}

noAgent('peer logs --tail -3 exits 2 naming --tail, before asking any agent', async () => {
  const result = await run(['logs', '--tail', '-3', 'a/0', '--peer', SOCKET])
  assert.is(result.code, 2, result.stderr)
  assert.match(result.stderr, /--tail/)
  assert.not.match(result.stderr, /agent/)
})

for (const name of HELP) {
  noAgent(`peer ${name} --help exits 0 and lists --peer, --data and --json`, async () => {
    const result = await run([name, '--help'])
    assert.is(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`Usage: peer ${name}`))
    for (const flag of ['--peer <socket>', '--data <dir>', '--json']) assert.ok(result.stdout.includes(flag), `${name}: ${flag}`)
  })
}

noAgent('peer ps --help says peer ids are shortened in text only', async () => {
  const result = await run(['ps', '--help'])
  assert.match(result.stdout.replace(/\s+/g, ' '), /last 12 characters; --json has them in full/)
})

noAgent.run()

// --- Finding the socket -------------------------------------------------------------------------

const socket = suite('socketPath')

socket('--peer wins over everything', () => {
  assert.is(socketPath({ peer: '/a.sock', data: '/d' }, { PEER_SOCKET: '/e.sock', PEER_DATA: '/f' }), '/a.sock')
})

socket('--data comes next: its control.sock', () => {
  assert.is(socketPath({ data: '/d' }, { PEER_SOCKET: '/e.sock', PEER_DATA: '/f' }), join('/d', 'control.sock'))
})

socket('then $PEER_SOCKET, then $PEER_DATA/control.sock, then ~/.peer/control.sock', () => {
  assert.is(socketPath({}, { PEER_SOCKET: '/e.sock', PEER_DATA: '/f' }), '/e.sock')
  assert.is(socketPath({}, { PEER_SOCKET: '', PEER_DATA: '/f' }), join('/f', 'control.sock'))
  assert.match(socketPath({}, {}), /[/\\]\.peer[/\\]control\.sock$/)
})

socket.run()

// --- Cell formats -------------------------------------------------------------------------------

const cells = suite('cell formats')
const NOW = 1_700_000_000_000

cells('relativeTime: tenths under 10 s, then whole units', () => {
  assert.is(relativeTime(NOW - 300, NOW), '0.3s ago')
  assert.is(relativeTime(NOW, NOW), '0.0s ago')
  assert.is(relativeTime(NOW - 9_999, NOW), '9.9s ago')
  assert.is(relativeTime(NOW - 12_000, NOW), '12s ago')
  assert.is(relativeTime(NOW - 59_999, NOW), '59s ago')
  assert.is(relativeTime(NOW - 4 * 60_000 - 30_000, NOW), '4m ago')
  assert.is(relativeTime(NOW - 3 * 3_600_000, NOW), '3h ago')
  assert.is(relativeTime(NOW - 50 * 3_600_000, NOW), '2d ago')
})

cells('relativeTime: null is -, a small clock skew is now, a larger one is in the future', () => {
  assert.is(relativeTime(null, NOW), '-')
  assert.is(relativeTime(NOW + 400, NOW), '0.0s ago')
  assert.is(relativeTime(NOW + 2_500, NOW), 'in 2.5s')
  assert.is(relativeTime(NOW + 120_000, NOW), 'in 2m')
})

cells('cpu, memory and labels cells', () => {
  assert.is(cpuCell(1500, 4000), '1500/4000m')
  assert.is(memoryCell(512, 8192), '512/8192Mi')
  assert.is(labelsCell({}), '-')
  assert.is(labelsCell({ zone: 'a', disk: 'ssd' }), 'disk=ssd,zone=a')
})

cells('shortPeer keeps the last 12 characters; short ids stay whole', () => {
  assert.is(shortPeer('12D3KooWAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdef'), '456789abcdef')
  assert.is(shortPeer('peer-a'), 'peer-a')
})

cells('clockTime is local HH:MM:SS.mmm', () => {
  assert.is(clockTime(new Date(2025, 0, 2, 3, 4, 5, 6).getTime()), '03:04:05.006')
})

cells('--tail: a whole number, 0 included; anything else is a usage error naming the flag', () => {
  assert.is(parseTail('0'), 0)
  assert.is(parseTail('25'), 25)
  for (const bad of ['-3', '1.5', 'ten', '', '99999999999999999999']) {
    try {
      parseTail(bad)
      assert.unreachable(bad)
    } catch (error) {
      assert.instance(error, UsageError)
      assert.is((error as UsageError).exitCode, 2)
      assert.match((error as Error).message, /--tail/)
    }
  }
  const path = (options: { follow?: boolean; tail?: string }) => routeTarget('GET /v1/logs/:slot', { params: { slot: 'web/0' }, query: logsQuery(options) }).path
  assert.is(path({}), '/v1/logs/web%2F0')
  assert.is(path({ follow: true, tail: '5' }), '/v1/logs/web%2F0?follow=1&tail=5')
})

cells.run()

// --- Tables -------------------------------------------------------------------------------------

const text = suite('text output')
const P = '12D3KooWAbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdef'
const Q = '12D3KooWZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210zyxwvu'

const task = (slot: string, peer: string): TaskRow => ({ slot, service: slot.split('/')[0]!, peer, state: 'running', specHash: 'h1', since: NOW - 12_000 })
const web: ServiceRow = {
  name: 'web', mode: 'replicated', driver: 'process', version: 3, specHash: 'h1',
  desired: 3, running: 2, tasks: 2, pending: 1, updatedBy: P, updatedAt: NOW - 12_000,
}
const pendingWhy: WhyAnswer = {
  target: 'web', service: 'web', slot: null,
  tasks: [task('web/0', P), task('web/1', Q)],
  pending: { slots: ['web/2'], round: 4, since: NOW - 5_000, reasons: [{ reason: 'cpu', detail: '', peers: 2, text: 'not enough cpu' }] },
  summary: '1 slot(s) of web pending since bid round 4; 2 peer(s): not enough cpu',
}

text('status: header with members and digest, RUNNING/DESIRED with - for global', () => {
  const out = statusText({
    peer: P, addresses: [], incarnation: 1, desiredDigest: '0123456789abcdef',
    members: { alive: 2, suspect: 1, dead: 0, left: 0 },
    services: [web, { ...web, name: 'agent', mode: 'global', desired: null, running: 3, pending: 0 }],
    warnings: [],
  }, NOW)
  const lines = out.trimEnd().split('\n')
  assert.ok(lines[0]!.includes(P))
  assert.match(lines[0]!, /2 alive, 1 suspect, 0 dead/)
  assert.match(lines[0]!, /0123456789abcdef/)
  assert.match(lines[2]!, /^SERVICE\s+MODE\s+VERSION\s+RUNNING\/DESIRED\s+PENDING\s+UPDATED$/)
  assert.match(lines[3]!, /^web\s+replicated\s+3\s+2\/3\s+1\s+12s ago by 456789abcdef$/)
  assert.match(lines[4]!, /^agent\s+global\s+3\s+3\/-\s+0\s+/)
})

text('status: each warning on a line of its own between the header and the table', () => {
  const message = 'desired state on disk: desired-state.snapshot was damaged (bad magic); moved to desired-state.snapshot.damaged-1, loaded from genesis plus the log'
  const out = statusText({
    peer: P, addresses: [], incarnation: 1, desiredDigest: '0123456789abcdef',
    members: { alive: 1, suspect: 0, dead: 0, left: 0 },
    services: [web],
    warnings: [{ at: NOW - 20_000, source: 'desired-state', message }],
  }, NOW)
  const lines = out.trimEnd().split('\n')
  assert.is(lines[1], '')
  assert.is(lines[2], `Warning (20s ago): ${message}`)
  assert.is(lines[3], '')
  assert.match(lines[4]!, /^SERVICE\s+MODE/)
})

text('status of one service: its row, its tasks and the why summary', () => {
  const out = serviceText({ service: web, tasks: pendingWhy.tasks, why: pendingWhy }, NOW)
  assert.match(out, /^SERVICE .*\nweb /)
  assert.match(out, /SLOT\s+PEER\s+STATE\s+SINCE\nweb\/0\s+456789abcdef\s+running\s+12s ago\n/)
  assert.ok(out.endsWith(`${pendingWhy.summary}\n`))
})

text('ps: SLOT SERVICE PEER STATE SINCE with short peers; none says so', () => {
  const out = psText([task('web/0', P)], NOW)
  assert.is(out, 'SLOT   SERVICE  PEER          STATE    SINCE\nweb/0  web      456789abcdef  running  12s ago\n')
  assert.is(psText([], NOW), 'No tasks.\n')
})

text('nodes: self marked with *, site, resources, last seen, labels', () => {
  const none = { cpuMilli: 0, memoryMiB: 0, extended: {} }
  const nodes: NodeRow[] = [
    { peer: P, self: true, status: 'alive', state: 'alive', incarnation: 1, lastSeen: NOW - 300, capacity: { cpuMilli: 4000, memoryMiB: 8192, extended: {} }, allocated: { cpuMilli: 1500, memoryMiB: 512, extended: {} }, labels: { zone: 'a', site: 'edge-1', 'peer.mesh': 'kernel' }, tasks: 1, drivers: ['docker', 'process'], engine: { state: 'up', version: '20.10.24' } },
    { peer: Q, self: false, status: 'dead', state: 'dead', incarnation: 2, lastSeen: null, capacity: none, allocated: none, labels: {}, tasks: 0, drivers: [], engine: null },
  ]
  const lines = nodesText(nodes, NOW).trimEnd().split('\n')
  assert.match(lines[0]!, /^PEER\s+STATUS\s+STATE\s+SITE\s+LAST SEEN\s+CPU\s+MEMORY\s+TASKS\s+DRIVERS\s+MESH\s+LABELS$/)
  assert.match(lines[1]!, new RegExp(`^${P} \\*\\s+alive\\s+alive\\s+edge-1\\s+0\\.3s ago\\s+1500/4000m\\s+512/8192Mi\\s+1\\s+docker,process\\s+kernel\\s+zone=a$`))
  assert.match(lines[2]!, new RegExp(`^${Q}\\s+dead\\s+dead\\s+-\\s+-\\s+0/0m\\s+0/0Mi\\s+0\\s+-\\s+-\\s+-$`))
  assert.is(lines.length, 3, 'no note while this peer runs containers')
  const without = nodesText([{ ...nodes[0]!, drivers: ['process'], engine: { state: 'absent', detail: 'no Docker engine answers (connect ENOENT)' } }], NOW)
  assert.match(without, /This peer runs no containers: no Docker engine answers \(connect ENOENT\)\n$/)
  const failing = nodesText(nodes.slice(0, 1), NOW, [
    { address: '/ip4/127.0.0.2/tcp/4001', since: NOW - 30_000, lastAttempt: NOW - 1_000, attempts: 15, kind: 'handshake', reason: 'pre-shared key mismatch or not a peer' },
    { address: '/ip6/::1/tcp/4002/p2p/' + Q, since: NOW - 2_500, lastAttempt: NOW, attempts: 2, kind: 'unreachable', reason: 'connection refused (nothing listens there)' },
  ]).trimEnd().split('\n')
  assert.equal(failing.slice(2), [
    '',
    'join 127.0.0.2:4001: failing for 30s: pre-shared key mismatch or not a peer',
    'join [::1]:4002: failing for 2.5s: connection refused (nothing listens there)',
  ])
})

text('nodes --wide: REACH says public or behind NAT, LINK direct, relayed through whom, or none', () => {
  const none = { cpuMilli: 0, memoryMiB: 0, extended: {} }
  const row = (peer: string, self: boolean, reachability: NodeRow['reachability'], link: NodeRow['link']): NodeRow =>
    ({ peer, self, status: 'alive', state: 'alive', incarnation: 1, lastSeen: NOW, capacity: none, allocated: none, labels: {}, tasks: 0, drivers: [], engine: null, reachability, link })
  const R = 'relayrelayrelay'
  const lines = nodesText([row(P, true, 'nat', null), row(Q, false, 'nat', { kind: 'relayed', via: R }), row('direct-peer', false, 'public', { kind: 'direct' }), row('gone-peer', false, 'unknown', null)], NOW, [], true).trimEnd().split('\n')
  assert.match(lines[0]!, /\sMESH\s+REACH\s+LINK\s+LABELS$/)
  assert.match(lines[1]!, /\sbehind NAT\s+-\s+-$/)
  assert.match(lines[2]!, new RegExp(`\\sbehind NAT\\s+relay ${R}\\s+-$`))
  assert.match(lines[3]!, /\spublic\s+direct\s+-$/)
  assert.match(lines[4]!, /\sunknown\s+none\s+-$/)
  assert.not.match(nodesText([row(P, true, 'nat', null)], NOW).split('\n')[0]!, /REACH/, 'only with --wide')
})

text('why: summary, tasks, then pending slots and each reason with its peer count', () => {
  const out = whyText(pendingWhy, NOW)
  assert.ok(out.startsWith(`${pendingWhy.summary}\n`))
  assert.match(out, /Pending since 5\.0s ago \(bid round 4\): web\/2\n  2 peers: not enough cpu\n$/)
  const settled = whyText({ ...pendingWhy, tasks: [], pending: null, summary: 'all good' }, NOW)
  assert.is(settled, 'all good\n')
})

text('events: one line per event, time, kind, details; unknown kinds show their fields', () => {
  const at = new Date(2025, 0, 2, 3, 4, 5, 6).getTime()
  const line = (event: AgentEvent) => eventLine(event)
  assert.is(line({ at, kind: 'agent', message: 'started' }), '03:04:05.006 agent started')
  assert.is(line({ at, kind: 'member', peer: 'peer-b', status: 'suspect', incarnation: 3 }), '03:04:05.006 member peer-b suspect (incarnation 3)')
  assert.is(line({ at, kind: 'start', slot: 'web/0', specHash: 'abc' }), '03:04:05.006 start web/0 spec abc')
  assert.is(line({ at, kind: 'stop', slot: 'web/0', reason: 'drain' }), '03:04:05.006 stop web/0 drain')
  assert.is(line({ at, kind: 'task', slot: 'web/0', state: 'failed', exitCode: 3, detail: 'oom' }), '03:04:05.006 task web/0 failed exit 3: oom')
  assert.is(line({ at, kind: 'task', slot: 'web/0', state: 'running' }), '03:04:05.006 task web/0 running')
  assert.is(line({ at, kind: 'desired', digest: 'abc', services: 2 }), '03:04:05.006 desired digest abc, 2 services')
  assert.is(line({ at, kind: 'rollback', service: 'web', detail: 'unhealthy' }), '03:04:05.006 rollback web: unhealthy')
  assert.is(line({ at, kind: 'future', n: 1, s: 'x' } as unknown as AgentEvent), '03:04:05.006 future n=1 s=x')
})

text('history: CHANGED joined by comma, - when none; reverts say from which version', () => {
  const entry = (over: Partial<HistoryEntry>): HistoryEntry => ({
    service: 'web' as HistoryEntry['service'], version: 1, id: String(over.version ?? 1), key: '0123456789abcdef', parents: [], recorded: true,
    action: 'create', author: P, timeMs: new Date(2025, 0, 2, 3, 4, 5).getTime(), specDigest: 'd', specHash: 'h', changed: [], ...over,
  })
  const lines = historyText([entry({}), entry({ version: 2, action: 'revert', author: Q, changed: ['image', 'env.A'], revertedFrom: 1 })]).trimEnd().split('\n')
  assert.match(lines[0]!, /^SERVICE\s+VERSION\s+ACTION\s+AUTHOR\s+TIME\s+CHANGED$/)
  assert.match(lines[1]!, /^web\s+1\s+create\s+456789abcdef\s+2025-01-02 03:04:05\s+-$/)
  assert.match(lines[2]!, /^web\s+2\s+revert \(from 1\)\s+543210zyxwvu\s+2025-01-02 03:04:05\s+image, env\.A$/)
  assert.is(historyText([]), 'No history.\n')
})

text('history: concurrent versions show their ids; a merge names the versions it joined and has no author', () => {
  const entry = (over: Partial<HistoryEntry>): HistoryEntry => ({
    service: 'web' as HistoryEntry['service'], version: 2, id: '2', key: '0123456789abcdef', parents: ['1'], recorded: true,
    action: 'scale', author: P, timeMs: new Date(2025, 0, 2, 3, 4, 5).getTime(), specDigest: 'd', specHash: 'h', changed: ['replicas'], ...over,
  })
  const lines = historyText([
    entry({ id: '2·1a2b' }),
    entry({ id: '2·9f3c', action: 'update', author: Q, changed: ['env.LOG'] }),
    entry({ version: 3, id: '3', action: 'merge', author: '', parents: ['2·1a2b', '2·9f3c'], changed: ['env.LOG', 'replicas'], recorded: false }),
    entry({ version: 4, id: '4', action: 'revert', parents: ['3'], revertedFrom: 2, revertedFromId: '2·9f3c' }),
  ]).trimEnd().split('\n')
  assert.match(lines[1]!, /^web\s+2·1a2b\s+scale\s+456789abcdef\s+2025-01-02 03:04:05\s+replicas$/)
  assert.match(lines[2]!, /^web\s+2·9f3c\s+update\s+543210zyxwvu\s+2025-01-02 03:04:05\s+env\.LOG$/)
  assert.match(lines[3]!, /^web\s+3\s+merge \(of 2·1a2b, 2·9f3c\)\s+-\s+2025-01-02 03:04:05\s+env\.LOG, replicas$/)
  assert.match(lines[4]!, /^web\s+4\s+revert \(from 2·9f3c\)\s+456789abcdef\s+/)
})

text.run()
