// Parsing of command-line values: `peer agent --labels`, `--listen/--join` and `--site-cut-hold` (cli/commands/agent.ts),
// and `peer scale service=replicas` (cli/commands/scale.ts). Bad input is a UsageError (exit 2) that
// names the part at fault.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { discoverySettings, parseLabels, parseSiteCutHold, toMultiaddr } from '../../cli/commands/agent.js'
import { parsePair } from '../../cli/commands/scale.js'
import { EXIT_INVALID_INPUT, UsageError } from '../../cli/exit-codes.js'

/** Runs `body`, which must throw a UsageError with exit code 2; returns its message. */
function usageError(body: () => unknown): string {
  try {
    body()
  } catch (error) {
    assert.instance(error, UsageError)
    assert.is((error as UsageError).exitCode, EXIT_INVALID_INPUT)
    return (error as Error).message
  }
  assert.unreachable('expected a UsageError')
  return ''
}

// --- parseLabels ----------------------------------------------------------------------------------

const labels = suite('parseLabels')

const GOOD_LABELS: ReadonlyArray<{ flags: string[]; expected: Record<string, string> }> = [
  { flags: [], expected: {} },
  { flags: ['zone=a'], expected: { zone: 'a' } },
  { flags: ['zone=a,disk=ssd'], expected: { zone: 'a', disk: 'ssd' } },
  { flags: ['zone=a', 'disk=ssd'], expected: { zone: 'a', disk: 'ssd' } },
  { flags: ['zone=a,disk=ssd', 'gpu=1'], expected: { zone: 'a', disk: 'ssd', gpu: '1' } },
  { flags: ['zone=a', 'zone=b'], expected: { zone: 'b' } },
  { flags: ['k='], expected: { k: '' } },
  { flags: ['k=,j=x'], expected: { k: '', j: 'x' } },
  { flags: ['url=a=b'], expected: { url: 'a=b' } },
  { flags: [' zone=a , disk=ssd '], expected: { zone: 'a', disk: 'ssd' } },
  { flags: ['zone=a,,', ''], expected: { zone: 'a' } },
  { flags: ['topology.kubernetes.io/zone=eu-1'], expected: { 'topology.kubernetes.io/zone': 'eu-1' } },
  { flags: ['A_b-9=v'], expected: { 'A_b-9': 'v' } },
]

for (const { flags, expected } of GOOD_LABELS) {
  labels(`${JSON.stringify(flags)} gives ${JSON.stringify(expected)}`, () => {
    assert.equal(parseLabels(flags), expected)
  })
}

const BAD_LABELS: ReadonlyArray<{ flags: string[]; bad: string }> = [
  { flags: ['zone'], bad: 'zone' },
  { flags: ['zone=a,disk'], bad: 'disk' },
  { flags: ['zone=a', 'ssd'], bad: 'ssd' },
  { flags: ['=a'], bad: '=a' },
  { flags: ['-zone=a'], bad: '-zone=a' },
  { flags: ['.zone=a'], bad: '.zone=a' },
  { flags: ['zo ne=a'], bad: 'zo ne=a' },
  { flags: ['zone:a=b'], bad: 'zone:a=b' },
  { flags: ['zöne=a'], bad: 'zöne=a' },
  { flags: [`${'k'.repeat(254)}=a`], bad: `${'k'.repeat(254)}=a` },
]

for (const { flags, bad } of BAD_LABELS) {
  labels(`${JSON.stringify(flags).slice(0, 60)} is refused, naming ${JSON.stringify(bad).slice(0, 40)}`, () => {
    const message = usageError(() => parseLabels(flags))
    assert.ok(message.startsWith('--labels: '), message)
    assert.match(message, JSON.stringify(bad))
  })
}

labels('keys starting with "peer." are reserved for the built-in labels, and refused naming them', () => {
  for (const flags of [['peer.x=1'], ['zone=a,peer.hostname=edge-1'], ['peer.id=me']]) {
    const message = usageError(() => parseLabels(flags))
    assert.ok(message.startsWith('--labels: '), message)
    assert.match(message, /keys starting with "peer\." are reserved for the labels every agent sets itself \(peer\.hostname, peer\.id, peer\.os, peer\.arch, peer\.mesh\)/)
  }
  assert.match(usageError(() => parseLabels(['peer.x=1'])), '"peer.x"')
  // Only the prefix with its dot: other keys that start with "peer" are the operator's.
  assert.equal(parseLabels(['peers=3,peer-group=a']), { peers: '3', 'peer-group': 'a' })
})

labels('room is left for the built-in labels in an advert of 64', () => {
  const many = (n: number): string[] => Array.from({ length: n }, (_, i) => `k${i}=v`)
  assert.is(Object.keys(parseLabels(many(59))).length, 59)
  assert.match(usageError(() => parseLabels(many(60))), /at most 59 labels/)
})

labels('a key of 253 characters is the longest accepted', () => {
  assert.equal(parseLabels([`${'k'.repeat(253)}=v`]), { ['k'.repeat(253)]: 'v' })
})

// --- toMultiaddr ----------------------------------------------------------------------------------

const addresses = suite('toMultiaddr')

const GOOD_ADDRESSES: ReadonlyArray<{ given: string; expected: string }> = [
  { given: '10.0.0.1:4001', expected: '/ip4/10.0.0.1/tcp/4001' },
  { given: '0.0.0.0:0', expected: '/ip4/0.0.0.0/tcp/0' },
  { given: '10.0.0.1:65535', expected: '/ip4/10.0.0.1/tcp/65535' },
  { given: 'host.example:4001', expected: '/dns4/host.example/tcp/4001' },
  { given: 'localhost:4001', expected: '/dns4/localhost/tcp/4001' },
  { given: '/ip4/10.0.0.1/tcp/4001', expected: '/ip4/10.0.0.1/tcp/4001' },
  { given: '/dns4/host.example/tcp/4001/p2p/12D3KooWabc', expected: '/dns4/host.example/tcp/4001/p2p/12D3KooWabc' },
  { given: '/ip6/::1/tcp/4001', expected: '/ip6/::1/tcp/4001' },
]

for (const { given, expected } of GOOD_ADDRESSES) {
  addresses(`${given} is ${expected}`, () => {
    assert.is(toMultiaddr(given, '--listen'), expected)
  })
}

const BAD_ADDRESSES: readonly string[] = [
  '10.0.0.1:99999',
  '10.0.0.1:65536',
  'nonsense',
  '',
  '10.0.0.1',
  '10.0.0.1:',
  ':4001',
  '10.0.0.1:40a1',
  '10.0.0.1:-1',
  'host example:4001',
  'a:b:4001',
  '10.0.0.1:123456',
]

for (const given of BAD_ADDRESSES) {
  for (const flag of ['--listen', '--join']) {
    addresses(`${JSON.stringify(given)} is refused for ${flag}, naming the flag and the value`, () => {
      const message = usageError(() => toMultiaddr(given, flag))
      assert.ok(message.startsWith(`${flag}: `), message)
      assert.match(message, JSON.stringify(given))
    })
  }
}

// --- parsePair ------------------------------------------------------------------------------------

const pairs = suite('parsePair')

const GOOD_PAIRS: ReadonlyArray<{ given: string; expected: { service: string; replicas: number } }> = [
  { given: 'web=5', expected: { service: 'web', replicas: 5 } },
  { given: 'web=0', expected: { service: 'web', replicas: 0 } },
  { given: 'my-api2=12', expected: { service: 'my-api2', replicas: 12 } },
  { given: '9lives=1', expected: { service: '9lives', replicas: 1 } },
  { given: 'web=100000', expected: { service: 'web', replicas: 100_000 } },
]

for (const { given, expected } of GOOD_PAIRS) {
  pairs(`${given} is ${expected.service} at ${expected.replicas}`, () => {
    assert.equal(parsePair(given), expected)
  })
}

const BAD_PAIRS: readonly string[] = [
  'web=-1',
  'web=x',
  'Web=2',
  'web=100001',
  'web=1e3',
  'web=1.5',
  'web=',
  '=5',
  'web',
  'web=5=6',
  '-web=5',
  'web 5',
  ' web=5',
  'web=99999999999999999999',
]

for (const given of BAD_PAIRS) {
  pairs(`${JSON.stringify(given)} is refused, naming it`, () => {
    const message = usageError(() => parsePair(given))
    assert.match(message, JSON.stringify(given))
    assert.match(message, 'service=replicas')
  })
}

labels.run()
addresses.run()
pairs.run()

// --- discoverySettings ----------------------------------------------------------------------------

const discovery = suite('discoverySettings')

discovery('good values', () => {
  assert.equal(discoverySettings({ mesh: 'auto' }), { mesh: 'auto' })
  assert.equal(discoverySettings({ mesh: 'userspace', serviceCidr: '10.253.0.0/16', dns: '127.0.0.1:5353' }), { mesh: 'userspace', serviceCidr: '10.253.0.0/16', dns: { host: '127.0.0.1', port: 5353 } })
  assert.equal(discoverySettings({ mesh: 'off', dns: 'off' }), { mesh: 'off', dns: 'off' })
  assert.equal(discoverySettings({ mesh: 'kernel', dns: ':53' }), { mesh: 'kernel', dns: { port: 53 } })
})

discovery('bad values name their flag', () => {
  assert.match(usageError(() => discoverySettings({ mesh: 'ipvs' })), /^--mesh: expected auto, kernel, userspace, off, got "ipvs"/)
  assert.match(usageError(() => discoverySettings({ mesh: 'auto', serviceCidr: '10.0.0.0' })), /^--service-cidr: expected an IPv4 range/)
  assert.match(usageError(() => discoverySettings({ mesh: 'auto', serviceCidr: '10.0.0.5/24' })), /^--service-cidr: .*did you mean 10\.0\.0\.0\/24/)
  assert.match(usageError(() => discoverySettings({ mesh: 'auto', dns: 'localhost' })), /^--dns: expected host:port/)
  assert.match(usageError(() => discoverySettings({ mesh: 'auto', dns: '127.0.0.1:70000' })), /^--dns: port 70000 is over 65535/)
})

discovery.run()

// --- parseSiteCutHold -----------------------------------------------------------------------------

const hold = suite('parseSiteCutHold')

hold('a duration or 0', () => {
  assert.is(parseSiteCutHold('5m'), 300_000)
  assert.is(parseSiteCutHold('90s'), 90_000)
  assert.is(parseSiteCutHold('1m30s'), 90_000)
  assert.is(parseSiteCutHold('0'), 0)
})

hold('anything else is refused, naming the flag and the value', () => {
  for (const bad of ['', 'soon', '-5m', '5 minutes', '5']) {
    const message = usageError(() => parseSiteCutHold(bad))
    assert.match(message, /^--site-cut-hold: expected a duration/)
    assert.match(message, JSON.stringify(bad))
  }
})

hold.run()
