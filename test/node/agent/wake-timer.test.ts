import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { WakeTimer } from '../../../node/agent/wake-timer.js'

const wake = suite('agent: the timer that wakes the protocol machine')
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
const clock = (): number => Math.round(performance.timeOrigin + performance.now())

wake('fires once, not before its deadline', async () => {
  const fired: number[] = []
  const timer = new WakeTimer(clock, () => fired.push(clock()))
  const at = clock() + 15
  timer.set(at)
  await sleep(60)
  assert.is(fired.length, 1)
  assert.ok(fired[0]! >= at, `fired at ${fired[0]}, deadline ${at}`)
  assert.is(timer.deadline, Infinity)
})

/**
 * Runs `between` right after the wake timer's timeout callback and before the immediate it queues:
 * where a message taken in moves the machine's deadline. The next setImmediate call (the timer's)
 * goes through, and `between` runs as a microtask once that callback returns, before the event loop
 * reaches its immediates.
 */
function betweenTimeoutAndImmediate(between: () => void): void {
  const original = globalThis.setImmediate
  globalThis.setImmediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
    globalThis.setImmediate = original
    const immediate = original(callback, ...args)
    queueMicrotask(between)
    return immediate
  }) as typeof setImmediate
}

wake('a deadline moved after the timeout fired but before its immediate ran fires once, at the new deadline', async () => {
  const fired: number[] = []
  const start = clock()
  const timer = new WakeTimer(clock, () => fired.push(clock()))
  timer.set(start + 5)
  betweenTimeoutAndImmediate(() => timer.set(start + 30))
  await sleep(80)
  assert.equal(fired.length, 1, `fired at ${fired.map((t) => t - start).join(', ')} ms`)
  assert.ok(fired[0]! >= start + 30)
})

wake('a moved deadline does not leave a second chain of wake-ups behind', async () => {
  const fired: number[] = []
  const start = clock()
  // As the agent does: each fire asks for the next deadline, 10 ms on.
  const timer = new WakeTimer(clock, () => {
    fired.push(clock())
    if (fired.length < 8) timer.set(clock() + 10)
  })
  timer.set(start + 5)
  betweenTimeoutAndImmediate(() => timer.set(start + 12))
  await sleep(250)
  assert.is(fired.length, 8)
  const gaps = fired.slice(1).map((t, i) => t - fired[i]!)
  assert.ok(gaps.every((gap) => gap >= 10), `gaps between wake-ups ${gaps.join(', ')} ms: a second chain fires in between`)
})

wake('a timer that fires before its deadline by the clock waits for the rest of it', async () => {
  let behind = 0
  const lagging = (): number => clock() - behind
  const fired: number[] = []
  const timer = new WakeTimer(lagging, () => fired.push(lagging()))
  const at = lagging() + 10
  timer.set(at)
  behind = 25 // the clock the deadline is on now reads 25 ms less than when the timer was set
  await sleep(20)
  assert.is(fired.length, 0, 'fired before its deadline')
  await sleep(60)
  assert.is(fired.length, 1)
  assert.ok(fired[0]! >= at, `fired at ${fired[0]}, deadline ${at}`)
})

wake('cancel and a deadline of Infinity fire nothing; asking for the same deadline again keeps the timer', async () => {
  let fired = 0
  const timer = new WakeTimer(clock, () => fired++)
  timer.set(clock() + 5)
  timer.cancel()
  timer.set(Infinity)
  await sleep(30)
  assert.is(fired, 0)
  const at = clock() + 10
  timer.set(at)
  timer.set(at)
  await sleep(40)
  assert.is(fired, 1)
})

wake.run()
