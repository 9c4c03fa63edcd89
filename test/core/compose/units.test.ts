// Compose's units as Docker reads them: Go durations, byte sizes (base 1024), cores.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { bytesToMiB, parseBytes, parseCpusMilli, parseGoDurationMs } from '../../../core/compose/units.js'
import { shellWords } from '../../../core/compose/shell-words.js'

const Units = suite('compose units')

Units('Go durations in milliseconds; below a millisecond counts as one', () => {
  const cases: Array<[unknown, number]> = [
    ['10s', 10_000], ['1m30s', 90_000], ['500ms', 500], ['1.5s', 1500], ['2h', 7_200_000], ['1d', 86_400_000], ['0', 0], [0, 0],
    ['0s', 0], ['100us', 1], ['1ns', 1], ['+5s', 5000], ['.5s', 500], ['1h1m1s1ms', 3_661_001],
  ]
  for (const [value, ms] of cases) assert.is(parseGoDurationMs(value), ms, String(value))
  for (const bad of ['10', 10, '-5s', 's', '1x', '', '1 s', true, null]) assert.type(parseGoDurationMs(bad), 'string', String(bad))
})

Units('byte sizes are base 1024 in any case, bytes without a unit', () => {
  const cases: Array<[unknown, number]> = [
    ['50M', 50 * 2 ** 20], ['50m', 50 * 2 ** 20], ['50MB', 50 * 2 ** 20], ['50MiB', 50 * 2 ** 20], ['1g', 2 ** 30], ['1.5G', 1.5 * 2 ** 30],
    ['512', 512], [1024, 1024], ['10b', 10], ['2k', 2048], ['1 GB', 2 ** 30], ['1t', 2 ** 40], ['1p', 2 ** 50],
  ]
  for (const [value, bytes] of cases) assert.is(parseBytes(value), bytes, String(value))
  for (const bad of ['50X', '-1', '1ib', 'M', '1mbb', -5, true]) assert.type(parseBytes(bad), 'string', String(bad))
  assert.is(bytesToMiB(50 * 2 ** 20), 50)
  assert.is(bytesToMiB(512), 1)
  assert.is(bytesToMiB(0), 0)
})

Units('cores in millicores, exact for decimals and rounded up below a millicore', () => {
  const cases: Array<[unknown, number]> = [
    ['0.5', 500], [0.5, 500], ['2', 2000], [2, 2000], ['0.1', 100], [0.1, 100], ['0.3333', 334], ['.25', 250], ['1.', 1000], ['0', 0], [1e-7, 1],
  ]
  for (const [value, milli] of cases) assert.is(parseCpusMilli(value), milli, String(value))
  for (const bad of ['half', '-1', -1, '1e3', true, null]) assert.type(parseCpusMilli(bad), 'string', String(bad))
})

const Words = suite('shellWords (command strings, as docker stack deploy splits them)')

Words('splits on spaces and honours quotes and backslashes', () => {
  const cases: Array<[string, string[]]> = [
    ['nginx -g "daemon off;"', ['nginx', '-g', 'daemon off;']],
    ["sh -c 'echo $HOME && exit 1'", ['sh', '-c', 'echo $HOME && exit 1']],
    ['echo a\\ b', ['echo', 'a b']],
    ['echo "a \\"quoted\\" word"', ['echo', 'a "quoted" word']],
    ['  spaced   out  ', ['spaced', 'out']],
    ["echo ''", ['echo', '']],
    ['echo a"b c"d', ['echo', 'ab cd']],
    ['run # the rest is a comment', ['run']],
    ['url http://x/#anchor', ['url', 'http://x/#anchor']],
    ['', []],
  ]
  for (const [text, words] of cases) assert.equal(shellWords(text), { ok: true, words }, text)
})

Words('an unclosed quote or a trailing backslash is an error', () => {
  for (const text of ['echo "open', "echo 'open", 'echo \\']) assert.not.ok(shellWords(text).ok, text)
})

Units.run()
Words.run()
