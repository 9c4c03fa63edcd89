// Task usage of processes, from /proc: the stat parser on real and odd lines, and a real process
// group (a shell with a busy child) whose CPU time grows and whose memory is counted.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { parseStat, processGroupUsage } from '../../../node/metrics/index.js'

const usage = suite('process group usage')

usage('parseStat reads group, CPU ticks (its own and its waited-for children\'s) and resident pages after a command name with spaces and parentheses', () => {
  const line = '4242 (my (odd) cmd) S 1 4200 4200 0 -1 4194560 100 0 0 0 150 25 10 5 20 0 1 0 123456 10000000 777 18446744073709551615'
  assert.equal(parseStat(line), { group: 4200, cpuTicks: 190, residentPages: 777 })
})

usage('parseStat skips zombies and lines it cannot read', () => {
  assert.is(parseStat('4242 (gone) Z 1 4200 4200 0 -1 4194560 0 0 0 0 150 25 0 0 20 0 1 0 123456 0 0 0'), undefined)
  assert.is(parseStat('garbage'), undefined)
  assert.is(parseStat('1 (short) S 0 1'), undefined)
})

usage('parseStat reads this process\'s own stat', () => {
  const own = parseStat(readFileSync('/proc/self/stat', 'latin1'))
  assert.ok(own !== undefined && own.residentPages > 0)
})

usage('a real process group: a busy child, and short commands run in a loop, count toward the group, and memory is above zero', async () => {
  // The leader is a shell; the CPU is burnt by its child, in the same group (detached = new group).
  const child = spawn('sh', ['-c', 'while :; do :; done & wait'], { detached: true, stdio: 'ignore' })
  const group = child.pid!
  // Its CPU is spent in children that end within milliseconds: counted once the shell waits for them.
  const looper = spawn('sh', ['-c', 'while :; do sh -c "i=0; while [ \\$i -lt 3000 ]; do i=\\$((i+1)); done"; done'], { detached: true, stdio: 'ignore' })
  const loops = looper.pid!
  try {
    await new Promise((resolve) => setTimeout(resolve, 300))
    const first = (await processGroupUsage(new Set([group]))).get(group)
    assert.ok(first !== undefined, 'the group is found')
    assert.ok(first.memoryBytes > 0, `memory ${first.memoryBytes}`)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const second = (await processGroupUsage(new Set([group]))).get(group)!
    assert.ok(second.cpuSeconds > first.cpuSeconds, `CPU ${first.cpuSeconds} s then ${second.cpuSeconds} s`)
    const loopsBefore = (await processGroupUsage(new Set([loops]))).get(loops)!
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const loopsAfter = (await processGroupUsage(new Set([loops]))).get(loops)!
    const ownTicks = (pid: number) => { const f = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' '); return Number(f[11]) + Number(f[12]) }
    assert.ok(loopsAfter.cpuSeconds - loopsBefore.cpuSeconds > 0, `short commands' CPU: ${loopsBefore.cpuSeconds} s then ${loopsAfter.cpuSeconds} s`)
    assert.ok(loopsAfter.cpuSeconds * 100 > ownTicks(loops), 'the group counts more than the shell\'s own time')
  } finally {
    process.kill(-group, 'SIGKILL')
    process.kill(-loops, 'SIGKILL')
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
  assert.is((await processGroupUsage(new Set([group]))).get(group), undefined, 'a group with no live process has no usage')
})

usage('groups not asked for are not counted, and an empty request reads nothing', async () => {
  assert.is((await processGroupUsage(new Set())).size, 0)
  assert.is((await processGroupUsage(new Set([2 ** 30]))).size, 0)
})

usage.run()
