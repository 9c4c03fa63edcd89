// This peer's task table on its own, through its deps: the restart policy's outcomes, restarts after
// backoff, giving a slot up, restored tasks, and the rollback a missed health deadline asks for.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { LocalTasks, restartDelayMs, type LocalTasksDeps } from '../../../core/protocol/local-tasks.js'
import type { ServiceName, ServiceSpec, SlotId, TaskView } from '../../../core/index.js'
import { p, service, slot } from './harness.js'

interface Fake {
  readonly tasks: LocalTasks
  /** What the table asked of the host and the machine, in order. */
  readonly calls: string[]
}

function fake(restored: Array<{ task: TaskView; spec: ServiceSpec }> = []): Fake {
  const calls: string[] = []
  const deps: LocalTasksDeps = {
    self: p('a'),
    startTask: (task) => calls.push(`start ${task.slot}`),
    stopTask: (at, reason) => calls.push(`stop ${at} ${reason}`),
    rollback: (name, hash) => calls.push(`rollback ${name} ${hash}`),
    changed: () => calls.push('changed'),
    gaveUp: (name: ServiceName, until: number) => calls.push(`gave up ${name} until ${until}`),
  }
  return { tasks: new LocalTasks(deps, { restored }), calls }
}

const WEB_0: SlotId = slot('web', 0)

const Policy = suite('local tasks: restart policy')

Policy('restart delays double from delay up to maxDelay', () => {
  assert.equal([1, 2, 3, 4, 5].map((attempt) => restartDelayMs(100, 1_000, attempt)), [100, 200, 400, 800, 1_000])
})

Policy('a failed task waits out its backoff held as pending, then starts again', () => {
  const { tasks, calls } = fake()
  const web = service('web', { command: 'serve', restart: { condition: 'always', delay: '1s', maxAttempts: 0 } })
  tasks.claim(WEB_0, web, 0)
  const report = tasks.report(WEB_0, 'failed', 100, 1)
  assert.equal(report, { service: web.name, ownershipChanged: false })
  assert.is(tasks.get(WEB_0)?.view.state, 'pending')
  assert.is(tasks.nextWakeAt(), 1_100)
  tasks.tick(1_100)
  assert.equal(calls, ['start web/0', 'changed', 'start web/0', 'changed'])
  assert.is(tasks.nextWakeAt(), Infinity)
})

Policy('ingress ports: two tasks here never bind one port, and a restart after a failure binds another', () => {
  const { tasks } = fake()
  const web = service('web', { command: 'serve', ports: [{ host: 8080, container: 80, mode: 'ingress' }, { container: 53, protocol: 'udp', mode: 'ingress' }], restart: { condition: 'always', delay: '1s', maxAttempts: 0 } })
  tasks.claim(WEB_0, web, 0)
  tasks.claim(slot('web', 1), web, 0)
  const first = tasks.get(WEB_0)!.view.ports
  const other = tasks.get(slot('web', 1))!.view.ports
  assert.equal(first.map((port) => [port.container, port.protocol]), [[80, 'tcp'], [53, 'udp']])
  assert.is.not(first[0]!.host, other[0]!.host)
  assert.ok(first[0]!.host >= 20_000 && first[0]!.host <= 32_000)
  tasks.report(WEB_0, 'failed', 100, 1)
  tasks.tick(1_100)
  const again = tasks.get(WEB_0)!.view.ports
  assert.is.not(again[0]!.host, first[0]!.host, 'the port it may have failed on is not bound again')
  assert.is.not(again[0]!.host, other[0]!.host)
})

Policy('after maxAttempts failures within the window the slot is given up, and the service sat out for a window', () => {
  const { tasks, calls } = fake()
  const web = service('web', { command: 'serve', restart: { condition: 'always', delay: '1s', maxAttempts: 2, window: '1m' } })
  tasks.claim(WEB_0, web, 0)
  tasks.report(WEB_0, 'failed', 100, 1)
  tasks.tick(1_100)
  const report = tasks.report(WEB_0, 'failed', 1_200, 1)
  assert.equal(report, { service: web.name, ownershipChanged: true })
  assert.is(tasks.get(WEB_0), undefined)
  assert.is(calls.at(-1), 'gave up web until 61200')
})

Policy('a clean exit of a job completes its slot; reports for slots not held here are ignored', () => {
  const { tasks } = fake()
  const job = service('job', { command: 'once', mode: 'job' })
  tasks.claim(slot('job', 0), job, 0)
  assert.equal(tasks.report(slot('job', 0), 'exited', 50, 0), { service: job.name, ownershipChanged: true })
  assert.is(tasks.get(slot('job', 0))?.view.state, 'complete')
  assert.is(tasks.report(WEB_0, 'running', 60), undefined)
})

Policy.run()

const Table = suite('local tasks: the table')

Table('restored tasks: active ones are held, then start again, ended ones stay as records, other peers\' are not ours', () => {
  const web = service('web', { command: 'serve', replicas: 3 })
  const view = (index: number, state: TaskView['state'], peer = 'a'): TaskView => ({
    slot: slot('web', index), service: web.name, peer: p(peer), specHash: 'h', state, since: 0, resources: web.resources, ports: [],
  })
  const { tasks, calls } = fake([
    { task: view(0, 'running'), spec: web }, { task: view(1, 'complete'), spec: web }, { task: view(2, 'running', 'b'), spec: web },
  ])
  assert.equal(tasks.views().map((t) => [t.slot, t.state]), [['web/0', 'pending'], ['web/1', 'complete']])
  assert.equal(tasks.held().map((t) => t.view.slot), ['web/0'])
  tasks.releaseHeld(10, () => undefined)
  assert.equal(calls, ['start web/0', 'changed'])
  assert.is(tasks.holds(web.name), true)
  assert.equal(tasks.held(), [])
})

Table('a held task that is no longer ours is given up with the reason, and the host told to stop it', () => {
  const web = service('web', { command: 'serve', replicas: 2 })
  const view = (index: number): TaskView => ({
    slot: slot('web', index), service: web.name, peer: p('a'), specHash: 'h', state: 'running', since: 0, resources: web.resources, ports: [],
  })
  const { tasks, calls } = fake([{ task: view(0), spec: web }, { task: view(1), spec: web }])
  tasks.releaseHeld(10, (task) => (task.view.slot === 'web/1' ? 'replaced' : undefined))
  assert.equal(calls, ['start web/0', 'changed', 'stop web/1 replaced', 'changed'])
  assert.equal(tasks.views().map((t) => `${t.slot} ${t.state}`), ['web/0 starting'])
})

Table('a held task ignores what the host reports of its slot until it is released', () => {
  const web = service('web', { command: 'serve' })
  const { tasks } = fake([{ task: { slot: WEB_0, service: web.name, peer: p('a'), specHash: 'h', state: 'running', since: 0, resources: web.resources, ports: [] }, spec: web }])
  assert.is(tasks.report(WEB_0, 'exited', 5, 1), undefined)
  assert.equal(tasks.views().map((t) => t.state), ['pending'])
})

Table('a claim carries its placement epoch; a first placement carries none', () => {
  const { tasks } = fake()
  tasks.claim(WEB_0, service('web', { command: 'serve' }), 0, 3)
  tasks.claim(slot('api', 0), service('api', { command: 'serve' }), 0)
  assert.equal(tasks.views().map((t) => t.epoch), [3, undefined])
})

Table('stopActive stops the active tasks of one service, or all', () => {
  const { tasks, calls } = fake()
  tasks.claim(WEB_0, service('web', { command: 'serve' }), 0)
  tasks.claim(slot('api', 0), service('api', { command: 'serve' }), 0)
  calls.length = 0
  tasks.stopActive('not-desired', 'api' as ServiceName)
  assert.equal(calls, ['stop api/0 not-desired', 'changed'])
  tasks.stopActive('leaving')
  assert.equal(calls.slice(2), ['stop web/0 leaving', 'changed'])
  assert.equal(tasks.views(), [])
})

Table('a task of the new version that is not healthy by its deadline asks for a rollback, once', () => {
  const { tasks, calls } = fake()
  const web = service('web', { command: 'serve', healthcheck: { command: 'check' }, update: { autoRollback: true, healthDeadline: '3s' } })
  tasks.claim(WEB_0, web, 0)
  tasks.report(WEB_0, 'running', 100)
  assert.is(tasks.nextWakeAt(), 3_100, 'the deadline runs from the last state change')
  tasks.tick(3_100)
  tasks.tick(4_000)
  assert.equal(calls.filter((c) => c.startsWith('rollback')).length, 1)
  assert.is(tasks.nextWakeAt(), Infinity, 'nothing more to wait for')
})

Table.run()
