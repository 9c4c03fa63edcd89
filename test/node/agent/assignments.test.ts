// The agent's task records on disk (node/agent/assignments.ts): what is written is read back as it was;
// a missing file is an empty start; a damaged file or damaged entries are skipped with a problem line
// that names the file and the entry, keeping every entry that is still good.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readAssignments, writeAssignments, type Assignment } from '../../../node/agent/assignments.js'
import {
  peerId,
  replicaSlot,
  globalSlot,
  serviceName,
  specHash,
  validateServices,
  type ServiceSpec,
  type TaskState,
  type TaskView,
} from '../../../core/index.js'

const SELF = peerId('peer-self')
const OTHER = peerId('peer-other')

/** Normalised specs, as the desired state holds them. */
function specs(document: unknown): ServiceSpec[] {
  const result = validateServices(document)
  if (!result.ok) throw new Error(`test spec is invalid: ${JSON.stringify(result.errors)}`)
  return result.services
}

const SPECS = specs({
  services: {
    web: { command: ['sleep', '1'], replicas: 2 },
    api: { command: ['sleep', '2'], replicas: 1, resources: { cpu: '250m', memory: '128Mi' }, env: { A: '1' } },
    agent: { command: ['sleep', '3'], mode: 'global' },
  },
})
const specNamed = (name: string): ServiceSpec => {
  const spec = SPECS.find((s) => s.name === name)
  if (spec === undefined) throw new Error(`no test spec ${name}`)
  return spec
}
const WEB = specNamed('web')
const API = specNamed('api')
const AGENT = specNamed('agent')

function task(spec: ServiceSpec, slot: string, state: TaskState = 'running', peer = SELF): TaskView {
  return {
    slot: slot as TaskView['slot'],
    service: spec.name,
    peer,
    specHash: specHash(spec),
    state,
    since: 1_700_000_000_000,
    resources: spec.resources,
    ports: spec.ports,
  }
}

function assignment(spec: ServiceSpec, slot: string, state: TaskState = 'running'): Assignment {
  return { task: task(spec, slot, state), spec }
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pa-'))
  try {
    await body(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Plain JSON form, as another process would have written it. */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

// --- Round trips ------------------------------------------------------------------------------------

const roundTrip = suite('assignments: write then read')

const ROUND_TRIPS: ReadonlyArray<{ name: string; assignments: Assignment[] }> = [
  { name: 'no tasks', assignments: [] },
  { name: 'one replica', assignments: [assignment(WEB, replicaSlot(serviceName('web'), 0))] },
  {
    name: 'replicas of two services in several states',
    assignments: [
      assignment(WEB, 'web/0', 'running'),
      assignment(WEB, 'web/1', 'starting'),
      assignment(API, 'api/0', 'healthy'),
      assignment(API, 'api/7', 'complete'),
    ],
  },
  { name: 'a global slot', assignments: [assignment(AGENT, globalSlot(serviceName('agent'), SELF))] },
]

for (const { name, assignments } of ROUND_TRIPS) {
  roundTrip(`reads back what was written: ${name}`, async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'assignments.json')
      await writeAssignments(path, assignments)
      const loaded = await readAssignments(path, SELF)
      assert.equal(loaded.problems, [])
      assert.equal(loaded.assignments, plain(assignments))
    })
  })
}

roundTrip('a second write replaces the first', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'assignments.json')
    await writeAssignments(path, [assignment(WEB, 'web/0'), assignment(WEB, 'web/1')])
    await writeAssignments(path, [assignment(API, 'api/0')])
    const loaded = await readAssignments(path, SELF)
    assert.equal(loaded.problems, [])
    assert.equal(loaded.assignments, plain([assignment(API, 'api/0')]))
  })
})

roundTrip('the file is 0600, also when it replaces one that was readable by others: specs hold env values', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'assignments.json')
    await writeAssignments(path, [assignment(API, 'api/0')])
    assert.is((await stat(path)).mode & 0o777, 0o600)
    await chmod(path, 0o644)
    await writeFile(join(dir, 'assignments.json.tmp'), 'left by a crash', { mode: 0o644 })
    await writeAssignments(path, [assignment(API, 'api/0')])
    assert.is((await stat(path)).mode & 0o777, 0o600)
  })
})

roundTrip('the write is atomic: only the file itself is left, no temporary file', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'assignments.json')
    await writeAssignments(path, [assignment(WEB, 'web/0')])
    await writeAssignments(path, [assignment(WEB, 'web/1')])
    assert.equal(await readdir(dir), ['assignments.json'])
    const text = await readFile(path, 'utf8')
    assert.ok(text.endsWith('\n'), 'the file ends with a newline')
    assert.is((JSON.parse(text) as { format: unknown }).format, 1)
  })
})

roundTrip('another peer reading the file keeps none of its tasks: a peer restarts only its own', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'assignments.json')
    await writeAssignments(path, [assignment(WEB, 'web/0')])
    const loaded = await readAssignments(path, OTHER)
    assert.is(loaded.assignments.length, 0)
    assert.is(loaded.problems.length, 1)
    assert.match(loaded.problems[0]!, 'tasks[0]')
    assert.match(loaded.problems[0]!, 'belongs to peer peer-self')
  })
})

// --- Whole-file problems ----------------------------------------------------------------------------

const wholeFile = suite('assignments: a missing or damaged file')

wholeFile('a missing file gives no tasks and no problems', async () => {
  await withDir(async (dir) => {
    assert.equal(await readAssignments(join(dir, 'assignments.json'), SELF), { assignments: [], problems: [] })
  })
})

const DAMAGED_FILES: ReadonlyArray<{ name: string; text: string; problem: string }> = [
  { name: 'not JSON', text: '{"format":1,"tasks":[', problem: 'is not JSON' },
  { name: 'empty', text: '', problem: 'is not JSON' },
  { name: 'JSON null', text: 'null', problem: 'is not a task list of format 1' },
  { name: 'a JSON list', text: '[]', problem: 'is not a task list of format 1' },
  { name: 'a string', text: '"tasks"', problem: 'is not a task list of format 1' },
  { name: 'another format', text: '{"format":2,"tasks":[]}', problem: 'is not a task list of format 1' },
  { name: 'format as a string', text: '{"format":"1","tasks":[]}', problem: 'is not a task list of format 1' },
  { name: 'no format', text: '{"tasks":[]}', problem: 'is not a task list of format 1' },
  { name: 'no task list', text: '{"format":1}', problem: 'is not a task list of format 1' },
  { name: 'tasks not a list', text: '{"format":1,"tasks":{}}', problem: 'is not a task list of format 1' },
]

for (const { name, text, problem } of DAMAGED_FILES) {
  wholeFile(`a file that is ${name} gives no tasks and one problem naming the file`, async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'assignments.json')
      await writeFile(path, text)
      const loaded = await readAssignments(path, SELF)
      assert.equal(loaded.assignments, [])
      assert.is(loaded.problems.length, 1)
      assert.ok(loaded.problems[0]!.startsWith(path), loaded.problems[0])
      assert.match(loaded.problems[0]!, problem)
    })
  })
}

wholeFile('a path that cannot be read (a directory) gives no tasks and a problem naming it', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'assignments.json')
    await mkdir(path)
    const loaded = await readAssignments(path, SELF)
    assert.equal(loaded.assignments, [])
    assert.is(loaded.problems.length, 1)
    assert.match(loaded.problems[0]!, `cannot read ${path}`)
  })
})

// --- Entry problems ---------------------------------------------------------------------------------

const entries = suite('assignments: damaged entries')

const good = (): Assignment => assignment(WEB, 'web/0')
const withTask = (change: Record<string, unknown>): unknown => ({ task: { ...plain(good().task), ...change }, spec: plain(WEB) })
const { restart: _dropped, ...webWithoutRestart } = plain(WEB)

const BAD_ENTRIES: ReadonlyArray<{ name: string; entry: unknown; problem: string }> = [
  { name: 'null', entry: null, problem: 'not an object' },
  { name: 'a number', entry: 7, problem: 'not an object' },
  { name: 'no task', entry: { spec: plain(WEB) }, problem: 'no task' },
  { name: 'a task that is not an object', entry: { task: 'web/0', spec: plain(WEB) }, problem: 'no task' },
  { name: 'a slot that is not a string', entry: withTask({ slot: 0 }), problem: 'bad slot' },
  { name: 'a slot without an index', entry: withTask({ slot: 'web' }), problem: 'bad slot' },
  { name: 'a slot with an upper-case service', entry: withTask({ slot: 'Web/0' }), problem: 'bad slot' },
  { name: 'a slot with a negative index', entry: withTask({ slot: 'web/-1' }), problem: 'bad slot' },
  { name: 'a task of another peer', entry: withTask({ peer: OTHER }), problem: 'belongs to peer peer-other, not this one' },
  { name: 'a task with no peer', entry: withTask({ peer: undefined }), problem: 'belongs to peer undefined' },
  { name: 'an unknown state', entry: withTask({ state: 'zombie' }), problem: 'bad state' },
  { name: 'a state that is not a string', entry: withTask({ state: 1 }), problem: 'bad state' },
  { name: 'a specHash that is not a string', entry: withTask({ specHash: 5 }), problem: 'specHash does not match the spec' },
  { name: 'a since that is not a number', entry: withTask({ since: '1' }), problem: 'bad since' },
  { name: 'no spec', entry: { task: plain(good().task) }, problem: 'spec: expected a service spec' },
  { name: 'a spec with a bad field', entry: { task: plain(good().task), spec: { ...plain(WEB), replicas: 'two' } }, problem: 'spec.replicas: expected a whole number' },
  { name: 'a spec not in normalised form', entry: { task: plain(good().task), spec: webWithoutRestart }, problem: 'spec.restart: is not in normalised form' },
  { name: 'a spec of another service', entry: { task: plain(good().task), spec: plain(API) }, problem: 'spec of another service' },
]

for (const { name, entry, problem } of BAD_ENTRIES) {
  entries(`an entry with ${name} is skipped with a problem naming the file and its index; the others are kept`, async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'assignments.json')
      const before = assignment(WEB, 'web/1')
      const after = assignment(API, 'api/0', 'healthy')
      await writeFile(path, JSON.stringify({ format: 1, tasks: [before, entry, after] }))
      const loaded = await readAssignments(path, SELF)
      assert.equal(loaded.assignments, plain([before, after]))
      assert.is(loaded.problems.length, 1, loaded.problems.join('\n'))
      const line = loaded.problems[0]!
      assert.ok(line.startsWith(`${path}: tasks[1]: `), line)
      assert.match(line, problem)
      assert.ok(line.endsWith('; skipped'), line)
    })
  })
}

// Entries whose task record disagrees with its own spec. The machine sums `task.resources` and lists
// `task.ports` when it publishes its advert: a restored task without them would throw at start (a
// damaged file would become fatal), and a task whose service is not its slot's would be counted against
// the wrong service. Skipping them is what the module promises ("a damaged file is not fatal").
const DAMAGED_TASKS: ReadonlyArray<{ name: string; entry: unknown }> = [
  { name: 'a task without resources', entry: withTask({ resources: undefined }) },
  { name: 'a task whose resources are not resources', entry: withTask({ resources: 'lots' }) },
  { name: 'a task whose ports are not a list', entry: withTask({ ports: undefined }) },
  { name: 'a task whose service is not its slot\'s', entry: withTask({ service: 'api' }) },
]

for (const { name, entry } of DAMAGED_TASKS) {
  entries(`an entry with ${name} is skipped with a problem naming the file and its index`, async () => {
    await withDir(async (dir) => {
      const path = join(dir, 'assignments.json')
      const kept = assignment(WEB, 'web/1')
      await writeFile(path, JSON.stringify({ format: 1, tasks: [entry, kept] }))
      const loaded = await readAssignments(path, SELF)
      assert.equal(loaded.assignments, plain([kept]))
      assert.is(loaded.problems.length, 1, 'one problem line')
      assert.ok(loaded.problems[0]!.startsWith(`${path}: tasks[0]: `), loaded.problems[0])
    })
  })
}

entries('every bad entry is reported with its own index, in file order', async () => {
  await withDir(async (dir) => {
    const path = join(dir, 'assignments.json')
    const kept = good()
    const tasks = [...BAD_ENTRIES.map((b) => b.entry), kept]
    await writeFile(path, JSON.stringify({ format: 1, tasks }))
    const loaded = await readAssignments(path, SELF)
    assert.equal(loaded.assignments, plain([kept]))
    assert.equal(
      loaded.problems.map((line) => /tasks\[(\d+)\]/.exec(line)?.[1]),
      BAD_ENTRIES.map((_, index) => String(index)),
    )
  })
})

roundTrip.run()
wholeFile.run()
entries.run()
