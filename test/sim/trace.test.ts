// Trace parsing: the Alibaba-style CSV in, entries and a sorted timeline out, and every mistake
// reported by line and column.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import {
  DEFAULT_TRACE_LIMITS, parseTrace, serviceForTraceEntry, splitCsvLine, traceServiceName, traceToTimeline, type TraceError,
} from '../../sim/trace.js'
import { traceEdits } from '../../sim/simulate.js'

const ALIBABA_LIKE = [
  'name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time',
  'openb-pod-0000,12000,16384,1,1000,,LS,Running,0,12537496,0',
  'openb-pod-0001,6000,12288,1,460,,BE,Running,427061,12902251,427061',
  '"openb-pod-0002",4000,15360,0,0,"V100M16,V100M32",LS,Running,427061,,427061',
].join('\n')

function errorsOf(text: string): TraceError[] {
  const result = parseTrace(text)
  assert.is(result.ok, false, 'expected the trace to be refused')
  return result.ok ? [] : result.errors
}

const parse = suite('parseTrace')

parse('reads an Alibaba-style trace, ignoring extra columns', () => {
  const result = parseTrace(ALIBABA_LIKE)
  assert.ok(result.ok)
  if (!result.ok) return
  assert.equal(result.entries[0], { name: 'openb-pod-0000', line: 2, cpuMilli: 12000, memoryMiB: 16384, gpu: 1, creationMs: 0, deletionMs: 12_537_496_000 })
  assert.equal(result.entries[2], { name: 'openb-pod-0002', line: 4, cpuMilli: 4000, memoryMiB: 15360, gpu: 0, creationMs: 427_061_000, deletionMs: undefined })
})

parse('accepts any column order, CRLF, a byte-order mark, comments, blank lines, and no optional columns', () => {
  const text = '\uFEFF# exported from somewhere\r\n\r\ncreation_time,memory_mib,name,cpu_milli\r\n1.5,100.2,a,250\r\n'
  const result = parseTrace(text)
  assert.ok(result.ok)
  if (result.ok) assert.equal(result.entries, [{ name: 'a', line: 4, cpuMilli: 250, memoryMiB: 101, gpu: 0, creationMs: 1500, deletionMs: undefined }])
})

parse('a header without a required column is refused, naming it', () => {
  const errors = errorsOf('name,cpu_milli,creation_time\na,1,0')
  assert.equal(errors.map((e) => [e.line, e.column]), [[1, 'memory_mib']])
  assert.match(errors[0]!.message, /header has no memory_mib column/)
})

parse('a repeated header column is refused', () => {
  assert.match(errorsOf('name,name,cpu_milli,memory_mib,creation_time\n')[0]!.message, /"name" appears twice/)
})

parse('bad values are reported by line and column', () => {
  const text = [
    'name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time',
    'ok,100,64,0,0,',
    'bad-cpu,lots,64,0,0,',
    'bad-gpu,100,64,0.5,0,',
    ',100,64,0,0,',
    'negative,100,-64,0,0,',
    'backwards,100,64,0,10,5',
    'no-start,100,64,0,,',
  ].join('\n')
  assert.equal(errorsOf(text).map((e) => `${e.line}:${e.column}`), [
    '3:cpu_milli', '4:num_gpu', '5:name', '6:memory_mib', '7:deletion_time', '8:creation_time',
  ])
  const messages = errorsOf(text).map((e) => e.message)
  assert.match(messages[0]!, /expected a non-negative number \(millicores\), got "lots"/)
  assert.match(messages[1]!, /expected a whole number \(GPUs\)/)
  assert.match(messages[4]!, /deletion_time 5 is before creation_time 10/)
  assert.match(messages[5]!, /missing seconds from the trace start/)
})

parse('a line with the wrong number of fields, an open quote, or a repeated name is refused', () => {
  const text = 'name,cpu_milli,memory_mib,creation_time\na,1,1,0\nb,1,1\n"c,1,1,0\na,2,2,0'
  const errors = errorsOf(text)
  assert.equal(errors.map((e) => e.line), [3, 4, 5])
  assert.match(errors[0]!.message, /expected 4 fields as in the header \(line 1\), found 3/)
  assert.match(errors[1]!.message, /quoted field is not closed/)
  assert.match(errors[2]!.message, /name "a" is already used on line 2/)
})

parse('an empty trace is refused', () => {
  assert.match(errorsOf('')[0]!.message, /trace is empty; expected a header/)
  assert.match(errorsOf('# only a comment\n\n')[0]!.message, /trace is empty/)
})

parse('size limits stop oversized input with a clear message', () => {
  const body = Array.from({ length: 20 }, (_, i) => `t${i},1,1,${i}`).join('\n')
  const header = 'name,cpu_milli,memory_mib,creation_time\n'
  assert.ok(parseTrace(header + body).ok, 'within the default limits')
  const small = { ...DEFAULT_TRACE_LIMITS, maxEntries: 5 }
  const tooMany = parseTrace(header + body, small)
  assert.ok(!tooMany.ok && /more than 5 entries/.test(tooMany.errors[0]!.message))
  const tooBig = parseTrace(header + body, { ...DEFAULT_TRACE_LIMITS, maxBytes: 10 })
  assert.ok(!tooBig.ok && /larger than 10 bytes/.test(tooBig.errors[0]!.message))
  const longLine = parseTrace(header + 'x'.repeat(100), { ...DEFAULT_TRACE_LIMITS, maxLineLength: 50 })
  assert.ok(!longLine.ok && /longer than 50 characters/.test(longLine.errors[0]!.message))
})

parse('parsing stops after maxErrors, saying so', () => {
  const body = Array.from({ length: 200 }, (_, i) => `t${i},x,1,0`).join('\n')
  const result = parseTrace(`name,cpu_milli,memory_mib,creation_time\n${body}`, { ...DEFAULT_TRACE_LIMITS, maxErrors: 10 })
  assert.ok(!result.ok)
  if (result.ok) return
  assert.is(result.errors.length, 11)
  assert.match(result.errors[10]!.message, /stopped after 10 errors/)
})

parse('CSV fields may be quoted, with doubled quotes inside', () => {
  assert.equal(splitCsvLine('a,"b,c","say ""hi""",'), ['a', 'b,c', 'say "hi"', ''])
  assert.is(typeof splitCsvLine('"open'), 'string')
})

const timeline = suite('traceToTimeline')

timeline('creations and deletions come out in time order, deletions first at one instant', () => {
  const result = parseTrace('name,cpu_milli,memory_mib,num_gpu,creation_time,deletion_time\nb,100,64,0,5,10\na,200,128,2,0,5\nc,300,256,0,10,')
  assert.ok(result.ok)
  if (!result.ok) return
  const events = traceToTimeline(result.entries)
  assert.equal(events.map((e) => `${e.atMs} ${e.kind} ${e.name}`), ['0 create a', '5000 delete a', '5000 create b', '10000 delete b', '10000 create c'])
  assert.equal(events[0]!.resources, { cpuMilli: 200, memoryMiB: 128, extended: { gpu: 2 } })
  assert.equal(events[2]!.resources.extended, {})
})

timeline('trace entries become valid one-replica services with distinct names', () => {
  assert.is(traceServiceName('openb-pod-0001'), 'openb-pod-0001')
  const odd = traceServiceName('Pod_With.Dots/And Spaces')
  assert.match(odd, /^pod-with-dots-and-spaces-[0-9a-f]{8}$/)
  assert.is.not(traceServiceName('A_b'), traceServiceName('a-b_'))
  assert.match(traceServiceName('___'), /^t-[0-9a-f]{8}$/)
  const spec = serviceForTraceEntry({ name: 'x_1', line: 2, cpuMilli: 1500, memoryMiB: 300, gpu: 1, creationMs: 0, deletionMs: undefined })
  assert.is(spec.replicas, 1)
  assert.equal(spec.resources, { cpuMilli: 1500, memoryMiB: 300, extended: { gpu: 1 } })
})

parse('strategy and constraints columns are read per row; an empty field means none', () => {
  const result = parseTrace('name,cpu_milli,memory_mib,creation_time,strategy,constraints\na,100,64,0,binpack,"zone == z1; arch in (amd64, arm64)"\nb,100,64,0,,\n')
  assert.ok(result.ok)
  if (!result.ok) return
  assert.is(result.entries[0]!.strategy, 'binpack')
  assert.equal(result.entries[0]!.constraints, ['zone == z1', 'arch in (amd64, arm64)'])
  assert.is(result.entries[1]!.strategy, undefined)
  assert.is(result.entries[1]!.constraints, undefined)
  const spec = serviceForTraceEntry(result.entries[0]!, { strategy: 'spread', constraints: ['gpu exists'] })
  assert.is(spec.strategy, 'binpack', 'the row\'s own strategy wins over the flag')
  assert.equal(spec.constraints.map((c) => c.label), ['gpu', 'zone', 'arch'])
  assert.is(serviceForTraceEntry(result.entries[1]!, { strategy: 'binpack' }).strategy, 'binpack')
})

parse('a bad strategy or constraint names its line and column', () => {
  const messages = errorsOf('name,cpu_milli,memory_mib,creation_time,strategy,constraints\na,100,64,0,tight,\nb,100,64,0,,zone ~= x\n')
  assert.equal(messages.map((e) => `${e.line}:${e.column}`), ['2:strategy', '3:constraints'])
  assert.match(messages[0]!.message, /expected spread or binpack/)
  assert.match(messages[1]!.message, /"zone ~= x": /)
})

timeline('a run\'s trace edits apply deletions before creations at one instant, then in trace order', () => {
  const result = parseTrace('name,cpu_milli,memory_mib,creation_time,deletion_time\nz,100,64,5,\na,200,128,0,5\ny,100,64,5,\n')
  assert.ok(result.ok)
  if (!result.ok) return
  assert.equal(traceEdits(result.entries, {}).map((e) => `${e.atMs} ${e.spec === null ? 'delete' : 'create'} ${e.name}`), ['0 create a', '5000 delete a', '5000 create z', '5000 create y'])
})

parse.run()
timeline.run()
