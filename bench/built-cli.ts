// The built `peer` bin a benchmark runs, as a user runs it: --cli <path>, else dist/bin/main.js,
// built first (npm run build) when it is missing or --build is given.

import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { optionOf } from './bench-args.js'

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..')

export function builtCli(args: readonly string[], log: (line: string) => void): string {
  const given = optionOf(args, '--cli')
  if (given !== undefined) {
    if (!existsSync(given)) throw new Error(`--cli: no file ${given}`)
    return resolve(given)
  }
  const main = join(REPO, 'dist', 'bin', 'main.js')
  if (args.includes('--build') || !existsSync(main)) {
    log('building dist/ (npm run build)')
    const built = spawnSync('npm', ['run', 'build'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] })
    if (built.status !== 0) throw new Error(`npm run build failed (exit ${built.status})`)
  }
  return main
}
