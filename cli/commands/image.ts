// `peer image load file.tar`: loads an image (a `docker save` archive) into this host's Docker engine,
// the offline way edge fleets ship images: copy the file to each site, load it, then `peer apply`.
// It talks to the local engine directly (DOCKER_HOST or the local socket), not to the agent.

import type { Command } from 'commander'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { engineMessage, loadDockerDriver } from '../../node/runtime/index.js'
import { EXIT_FAILURE, UsageError } from '../exit-codes.js'

export function registerImage(program: Command): void {
  const image = program.command('image').description('container images on this host\'s Docker engine')
  image
    .command('load')
    .description('load an image archive (docker save) into this host\'s Docker engine')
    .argument('<file>', 'the archive (.tar, or .tar.gz)')
    .action(async (file: string) => {
      process.exitCode = await loadImage(file)
    })
}

async function loadImage(file: string): Promise<number> {
  try {
    if (!(await stat(file)).isFile()) throw new UsageError(`${file}: not a regular file`)
  } catch (error) {
    if (error instanceof UsageError) throw error
    throw new UsageError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`)
  }
  // Loaded here, not at the top: every `peer` command (the agent too) imports this file.
  const { default: Docker } = await import('dockerode')
  const docker = new Docker()
  const engine = await (await loadDockerDriver()).engineAnswers(docker)
  if (!engine.ok) throw new UsageError(`no Docker engine answers on this host: ${engine.error}`, EXIT_FAILURE)
  let output: string
  try {
    const stream = await docker.loadImage(createReadStream(file), { quiet: true })
    output = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: Buffer) => chunks.push(chunk))
      stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
      stream.on('error', reject)
    })
  } catch (error) {
    throw new UsageError(`${file}: the engine refused it: ${engineMessage(error)}`, EXIT_FAILURE)
  }
  // The engine answers with JSON lines: {"stream": "Loaded image: name:tag\n"} or {"error": "..."}.
  const loaded: string[] = []
  for (const line of output.split('\n')) {
    if (line.trim() === '') continue
    let message: { stream?: string; error?: string }
    try {
      message = JSON.parse(line) as { stream?: string; error?: string }
    } catch {
      continue
    }
    if (message.error !== undefined) throw new UsageError(`${file}: the engine refused it: ${message.error}`, EXIT_FAILURE)
    if (message.stream !== undefined && message.stream.trim() !== '') loaded.push(message.stream.trim())
  }
  process.stdout.write(loaded.length > 0 ? `${loaded.join('\n')}\n` : `${file}: loaded\n`)
  return 0
}
