// The human units a spec file uses: durations, cpu and memory. Each parser returns a number, or a
// sentence saying what was expected.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { parseCpuMilli, parseDurationMs, parseMemoryMiB } from '../../../core/index.js'

type Good = { name: string; input: unknown; expected: number }
type Bad = { name: string; input: unknown; message?: RegExp }

function table(unit: ReturnType<typeof suite>, parse: (value: unknown) => number | string, good: Good[], bad: Bad[]) {
  for (const { name, input, expected } of good) {
    unit(`${name}: ${JSON.stringify(input)} is ${expected}`, () => {
      assert.is(parse(input), expected)
    })
  }
  for (const { name, input, message } of bad) {
    unit(`${name}: ${String(typeof input === 'string' ? JSON.stringify(input) : input)} is rejected with a sentence`, () => {
      const result = parse(input)
      assert.type(result, 'string', `parsed to ${String(result)}`)
      if (message) assert.match(result as string, message)
    })
  }
}

const Duration = suite('parseDurationMs')

table(Duration, parseDurationMs, [
  { name: 'milliseconds', input: '500ms', expected: 500 },
  { name: 'seconds', input: '10s', expected: 10_000 },
  { name: 'minutes and seconds', input: '1m30s', expected: 90_000 },
  { name: 'hours', input: '2h', expected: 7_200_000 },
  { name: 'hours and minutes', input: '1h30m', expected: 5_400_000 },
  { name: 'every unit at once', input: '1h1m1s1ms', expected: 3_661_001 },
  { name: 'fractional seconds', input: '1.5s', expected: 1_500 },
  { name: 'zero', input: '0s', expected: 0 },
  { name: 'surrounding whitespace', input: ' 10s ', expected: 10_000 },
  { name: 'a number of milliseconds', input: 1500, expected: 1500 },
  { name: 'the number zero', input: 0, expected: 0 },
  { name: 'a fractional number, rounded', input: 1.6, expected: 2 },
], [
  { name: 'a number written as a string has no unit', input: '10', message: /duration such as/ },
  { name: 'a negative duration', input: '-1s' },
  { name: 'words', input: 'abc' },
  { name: 'an unknown unit', input: '1x' },
  { name: 'an upper-case unit', input: '10S' },
  { name: 'a space between number and unit', input: '10 s' },
  { name: 'a unit with no number', input: 's' },
  { name: 'an empty string', input: '' },
  { name: 'trailing garbage', input: '10s!' },
  { name: 'a negative number', input: -1, message: /non-negative/ },
  { name: 'NaN', input: NaN },
  { name: 'Infinity', input: Infinity },
  { name: 'digits too many for a number', input: `${'9'.repeat(400)}ms`, message: /too large/ },
  { name: 'null', input: null },
  { name: 'a boolean', input: true },
])

Duration.run()

const Cpu = suite('parseCpuMilli')

table(Cpu, parseCpuMilli, [
  { name: 'millicores', input: '250m', expected: 250 },
  { name: 'millicores above one core', input: '1500m', expected: 1500 },
  { name: 'zero millicores', input: '0m', expected: 0 },
  { name: 'half a core as a number', input: 0.5, expected: 500 },
  { name: 'half a core as a string', input: '0.5', expected: 500 },
  { name: 'two cores as a string', input: '2', expected: 2000 },
  { name: 'two cores as a number', input: 2, expected: 2000 },
  { name: 'fractional cores', input: '1.25', expected: 1250 },
  { name: 'the largest plausible core count', input: 1024, expected: 1_024_000 },
  { name: 'whitespace around millicores', input: ' 250m ', expected: 250 },
], [
  { name: 'millicores written as a bare number suggest "m"', input: 2000, message: /"2000m".*millicores/ },
  { name: 'millicores written as a bare string suggest "m"', input: '4000', message: /"4000m"/ },
  { name: 'a negative number', input: -1 },
  { name: 'a negative string', input: '-1' },
  { name: 'fractional millicores', input: '1.5m' },
  { name: 'a unit alone', input: 'm' },
  { name: 'words', input: 'two' },
  { name: 'a unit after the cores', input: '2 cores' },
  { name: 'an empty string', input: '' },
  { name: 'NaN', input: NaN },
  { name: 'millicores too many for a number', input: `${'9'.repeat(400)}m`, message: /too large/ },
  { name: 'null', input: null },
])

Cpu.run()

const Memory = suite('parseMemoryMiB')

table(Memory, parseMemoryMiB, [
  { name: 'mebibytes', input: '64Mi', expected: 64 },
  { name: 'a gibibyte', input: '1Gi', expected: 1024 },
  { name: 'fractional gibibytes', input: '1.5Gi', expected: 1536 },
  { name: 'a tebibyte', input: '1Ti', expected: 1_048_576 },
  { name: 'decimal megabytes, rounded up to whole MiB', input: '512M', expected: 489 },
  { name: 'a decimal gigabyte, rounded up', input: '1G', expected: 954 },
  { name: 'kibibytes, rounded up', input: '1Ki', expected: 1 },
  { name: 'a whole MiB of kibibytes', input: '1024Ki', expected: 1 },
  { name: 'decimal kilobytes, rounded up', input: '2048K', expected: 2 },
  { name: 'a string without unit is MiB', input: '64', expected: 64 },
  { name: 'a number of MiB', input: 64, expected: 64 },
  { name: 'a fractional number of MiB, rounded up', input: 100.2, expected: 101 },
  { name: 'zero', input: 0, expected: 0 },
  { name: 'a space before the unit', input: '64 Mi', expected: 64 },
], [
  { name: 'a byte suffix', input: '64MB' },
  { name: 'a spelled-out unit', input: '1 GiB' },
  { name: 'a lower-case binary unit', input: '64mi' },
  { name: 'words', input: 'abc' },
  { name: 'a negative string', input: '-1' },
  { name: 'a negative number', input: -1, message: /non-negative/ },
  { name: 'an empty string', input: '' },
  { name: 'NaN', input: NaN },
  { name: 'Infinity', input: Infinity },
  { name: 'digits too many for a number', input: `${'9'.repeat(400)}Mi`, message: /too large/ },
  { name: 'a size that overflows in MiB', input: `${'9'.repeat(305)}Ti`, message: /too large/ },
  { name: 'null', input: null },
])

Memory.run()
