// The wire vocabulary (p2p/protocols.ts): every protocol id and topic is spelled there and nowhere
// else, no two are alike, and the limits its comments name still fit together.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { BROADCAST_LIMIT_BYTES, SYNC_LIMIT_BYTES } from '../../crdt/index.js'
import { WIRE_LIMITS } from '../../core/index.js'
import { SYNC_SESSION_ID_BYTES } from '../../node/agent/desired-replica.js'
import { TRANSPORT_DEFAULTS } from '../../p2p/index.js'
import * as protocols from '../../p2p/protocols.js'
import { repoRoot } from '../cli/run-cli.js'

/** Above this gossipsub drops a message without a word (publish still resolves). */
const GOSSIPSUB_SILENT_DROP_BYTES = 4 * 1024 * 1024

const vocabulary = suite('wire vocabulary')

vocabulary('the ids are distinct, each under /peer/1/', () => {
  const ids = Object.values(protocols)
  assert.ok(ids.length >= 6)
  assert.is(new Set(ids).size, ids.length)
  for (const id of ids) assert.match(id, /^\/peer\/1\/[a-z-]+$/)
})

vocabulary('no source file outside p2p/protocols.ts spells a protocol id or topic', () => {
  const spelled: string[] = []
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name)
      if (statSync(path).isDirectory()) walk(path)
      else if (name.endsWith('.ts') && /['"`]\/peer\/\d+\//.test(readFileSync(path, 'utf8'))) spelled.push(relative(repoRoot, path))
    }
  }
  for (const area of ['core', 'io', 'crdt', 'p2p', 'sim', 'node', 'cli', 'bench']) walk(join(repoRoot, area))
  assert.equal(spelled, ['p2p/protocols.ts'])
})

vocabulary('the limits the vocabulary names fit together', () => {
  // PROTOCOL_TOPIC and DIRECT_PROTOCOL carry what the machine's codec accepts, and no more.
  assert.is(TRANSPORT_DEFAULTS.maxGossipBytes, WIRE_LIMITS.maxBytes.advert)
  assert.is(TRANSPORT_DEFAULTS.maxDirectFrameBytes, WIRE_LIMITS.maxMessageBytes)
  // Gossip payloads stay clear of gossipsub's silent drop.
  assert.ok(TRANSPORT_DEFAULTS.maxGossipBytes < GOSSIPSUB_SILENT_DROP_BYTES)
  assert.ok(BROADCAST_LIMIT_BYTES < GOSSIPSUB_SILENT_DROP_BYTES)
  // A maximal sync payload, behind its session id, fits the transport's request and response bounds.
  assert.ok(SYNC_SESSION_ID_BYTES + SYNC_LIMIT_BYTES <= TRANSPORT_DEFAULTS.maxRequestBytes)
  assert.ok(SYNC_LIMIT_BYTES <= TRANSPORT_DEFAULTS.maxResponseBytes)
})

vocabulary.run()
