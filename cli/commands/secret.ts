// `peer secret create|ls|rm`, like `docker secret`: values sealed with the cluster key in the desired
// state, which tasks of services listing them (`secrets: [name]`) see as files. The value goes from a
// file or stdin to the local agent over its 0600 socket and is never printed; `create` on an existing
// name gives the secret a new version, which replaces the tasks of the services that use it — unless
// `--if-changed` is given and the value is the one it holds already, so a script can create secrets
// from files on every run without rolling anything.

import type { Command } from 'commander'
import { open } from 'node:fs/promises'
import { SECRET_NAME_PATTERN } from '../../core/index.js'
import { DOCUMENT_LIMITS, type SecretInfo } from '../../crdt/client.js'
import { addPeerOption, ask, dateTime, printJson, relativeTime, shortPeer, type PeerOptions } from '../agent-client.js'
import type { SecretOutcome } from '../../node/control/index.js'
import { UsageError } from '../exit-codes.js'
import { table } from '../table.js'

interface CreateOptions extends PeerOptions {
  file: string
  ifChanged?: boolean
  json?: boolean
}

interface ListOptions extends PeerOptions {
  json?: boolean
}

export function registerSecret(program: Command): void {
  const secret = program.command('secret').description('create, list and remove secrets (tasks see them as files)')
  addPeerOption(
    secret
      .command('create')
      .description('create a secret, or give an existing one a new version (services using it roll); the value is never printed')
      .argument('<name>', 'letters, digits, ".", "_" and "-", starting with a letter or digit')
      .requiredOption('-f, --file <path>', 'read the value from this file, or from stdin with "-"'),
  )
    .option('--if-changed', 'leave the secret as it is (no new version, no rolled services) when it already holds this value')
    .option('--json', 'print the agent\'s answer (metadata only) as JSON')
    .action(async (name: string, options: CreateOptions) => {
      checkName(name)
      const value = await readValue(options.file)
      try {
        const body = { name, valueBase64: value.toString('base64'), ...(options.ifChanged ? { ifChanged: true } : {}) }
        const answer = await ask(options, 'POST /v1/secrets', { body })
        if (options.json) printJson(answer)
        else process.stdout.write(`${createdText(answer.outcome, answer.secret)}\n`)
      } finally {
        value.fill(0)
      }
    })
  addPeerOption(
    secret
      .command('ls')
      .description('list secrets: name, version, size, author (last 12 characters of its peer id; --json has it in full), time; never values'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (options: ListOptions) => {
      const answer = await ask(options, 'GET /v1/secrets')
      if (options.json) printJson(answer)
      else process.stdout.write(secretsText(answer.secrets, Date.now()))
    })
  addPeerOption(
    secret
      .command('rm')
      .description('remove a secret; refused while a service lists it')
      .argument('<name>', 'the secret'),
  )
    .option('--json', 'print the agent\'s answer as JSON')
    .action(async (name: string, options: ListOptions) => {
      checkName(name)
      const answer = await ask(options, 'DELETE /v1/secrets/:name', { params: { name } })
      if (options.json) printJson(answer)
      else process.stdout.write(`removed secret ${answer.name}\n`)
    })
}

/** `created secret db: version 1, 12 bytes`; `secret db unchanged (same value): version 3, 12 bytes`. */
export function createdText(outcome: SecretOutcome, secret: SecretInfo): string {
  const size = `version ${secret.version}, ${secret.sizeBytes} bytes`
  return outcome === 'unchanged' ? `secret ${secret.name} unchanged (same value): ${size}` : `${outcome} secret ${secret.name}: ${size}`
}

export function secretsText(secrets: readonly SecretInfo[], now: number): string {
  if (secrets.length === 0) return 'No secrets.\n'
  return `${table(['NAME', 'VERSION', 'SIZE', 'AUTHOR', 'UPDATED'], secrets.map((s) => [
    s.name,
    String(s.version),
    `${s.sizeBytes}B`,
    shortPeer(s.author),
    `${dateTime(s.timeMs)} (${relativeTime(s.timeMs, now)})`,
  ]))}\n`
}

function checkName(name: string): void {
  if (!SECRET_NAME_PATTERN.test(name)) {
    throw new UsageError(`${JSON.stringify(name)} is not a secret name: letters, digits, ".", "_" and "-", starting with a letter or digit, at most 128`)
  }
}

/** The value from `path` ("-": stdin), refused when empty or over the limit; read no further than that. */
export async function readValue(path: string): Promise<Buffer> {
  const limit = DOCUMENT_LIMITS.secretValueBytes
  const where = path === '-' ? 'stdin' : path
  let value: Buffer
  try {
    value = path === '-' ? await readAtMost(process.stdin, limit + 1) : await readFileAtMost(path, limit + 1)
  } catch (error) {
    throw new UsageError(`cannot read the secret's value from ${where}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (value.length === 0) throw new UsageError(`the secret's value from ${where} is empty`)
  if (value.length > limit) {
    value.fill(0)
    throw new UsageError(`the secret's value from ${where} is over the limit of ${limit} bytes`)
  }
  return value
}

async function readFileAtMost(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await open(path, 'r')
  try {
    const buffer = Buffer.alloc(maxBytes)
    let filled = 0
    while (filled < maxBytes) {
      const { bytesRead } = await handle.read(buffer, filled, maxBytes - filled, null)
      if (bytesRead === 0) break
      filled += bytesRead
    }
    const value = Buffer.from(buffer.subarray(0, filled))
    buffer.fill(0)
    return value
  } finally {
    await handle.close()
  }
}

async function readAtMost(input: NodeJS.ReadableStream, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    chunks.push(bytes)
    total += bytes.length
    if (total >= maxBytes) break
  }
  const value = Buffer.concat(chunks)
  for (const chunk of chunks) chunk.fill(0)
  return value
}
