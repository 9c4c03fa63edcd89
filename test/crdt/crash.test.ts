// A real crash: a child process persists edits in a loop and is killed with SIGKILL at a random
// moment, possibly mid-append or mid-compaction. Every edit it acknowledged must load afterwards.

import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { desiredState, openStore, peerActor } from '../../crdt/index.js'
import { peerId } from '../../core/placement/ids.js'
import { nonce } from './support.mjs'

const writer = fileURLToPath(new URL('./crash-writer.mts', import.meta.url))

/** Runs the writer until it has acknowledged `acksBeforeKill` edits, kills it, returns every ack it printed. */
function runAndKill(dir: string, prefix: string, acksBeforeKill: number, extraDelayMs: number): Promise<{ acked: string[]; warnings: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, prefix], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    let killScheduled = false
    const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const acks = out.split('\n').filter((line) => line.startsWith('ack ')).length
      if (!killScheduled && acks >= acksBeforeKill) {
        killScheduled = true
        setTimeout(() => child.kill('SIGKILL'), extraDelayMs)
      }
    })
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited by itself (${code}): ${err}`))
      const lines = out.split('\n').slice(0, -1) // a last line without its newline was never complete
      resolve({
        acked: lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4)),
        warnings: lines.find((line) => line.startsWith('warnings ')) ?? '',
      })
    })
  })
}

test('every edit acknowledged before kill -9 is there after a restart, across repeated crashes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'peer-crash-'))
  try {
    const acknowledged: string[] = []
    for (let round = 0; round < 3; round++) {
      const acksBeforeKill = 5 + Math.floor(Math.random() * 80)
      const extraDelayMs = Math.floor(Math.random() * 15)
      const { acked } = await runAndKill(dir, `r${round}`, acksBeforeKill, extraDelayMs)
      assert.ok(acked.length >= acksBeforeKill, `round ${round}: ${acked.length} acks`)
      acknowledged.push(...acked)
      const opened = await openStore(dir, { actor: peerActor(peerId('checker'), nonce(round)) })
      const present = new Set<string>(desiredState(opened.doc).services.map((s) => s.spec.name))
      const missing = acknowledged.filter((name) => !present.has(name))
      assert.equal(missing, [], `round ${round} (killed after ${acksBeforeKill} acks + ${extraDelayMs} ms); warnings ${JSON.stringify(opened.warnings)}`)
      await opened.store.close()
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.run()
