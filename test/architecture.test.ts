// The dependency direction of DESIGN.md, checked by reading imports:
//   cli → node → {crdt, p2p} → core,   cli → sim → core.
// The core must also stay pure (no clock, randomness, environment, timers or I/O), because the
// simulator's answers are only the cluster's answers if both run the very same decisions.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')

function sourceFiles(folder: string): string[] {
  const absolute = join(root, folder)
  let entries: string[]
  try {
    entries = readdirSync(absolute)
  } catch {
    return []
  }
  return entries.flatMap((name) => {
    const path = join(absolute, name)
    if (statSync(path).isDirectory()) return sourceFiles(relative(root, path))
    return name.endsWith('.ts') ? [path] : []
  })
}

/** Import and re-export specifiers of a TypeScript file (static and dynamic). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const match of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    found.push((match[1] ?? match[2] ?? match[3])!)
  }
  return found
}

/** Top-level area of a repository path: node/core is its own area. */
function areaOf(path: string): string {
  const rel = relative(root, path)
  if (rel.startsWith(`node${'/'}core`)) return 'core'
  return rel.split('/')[0]!
}

const ALLOWED: Record<string, readonly string[]> = {
  core: ['core'],
  crdt: ['core', 'crdt'],
  p2p: ['core', 'crdt', 'p2p'],
  sim: ['core', 'crdt', 'sim'],
  node: ['core', 'crdt', 'p2p', 'node'],
  cli: ['core', 'crdt', 'p2p', 'node', 'sim', 'cli'],
}

const layering = suite('architecture')

layering('each area imports only the areas below it', () => {
  const problems: string[] = []
  for (const area of Object.keys(ALLOWED)) {
    const folder = area === 'core' ? 'node/core' : area
    for (const file of sourceFiles(folder)) {
      const own = areaOf(file)
      for (const specifier of importsOf(file)) {
        if (!specifier.startsWith('.')) continue
        const target = areaOf(resolve(dirname(file), specifier))
        if (!ALLOWED[own]!.includes(target)) problems.push(`${relative(root, file)} imports ${specifier} (${own} → ${target})`)
      }
    }
  }
  assert.equal(problems, [])
})

layering('the core imports nothing outside itself, not even node built-ins or packages', () => {
  const problems: string[] = []
  for (const file of sourceFiles('node/core')) {
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) problems.push(`${relative(root, file)} imports ${specifier}`)
    }
  }
  assert.equal(problems, [])
})

layering('the core reads no clock, randomness, environment or timers', () => {
  const forbidden = /\bDate\.now\(|new Date\(|Math\.random\(|\bprocess\.|setTimeout\(|setInterval\(|setImmediate\(|performance\.now\(|\brequire\(|crypto\.getRandomValues/
  const problems: string[] = []
  for (const file of sourceFiles('node/core')) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '')
      if (forbidden.test(code)) problems.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`)
    })
  }
  assert.equal(problems, [])
})

layering('the import scanner sees imports (so the checks above cannot pass vacuously)', () => {
  const files = sourceFiles('node/core')
  assert.ok(files.length > 5)
  assert.ok(files.some((file) => importsOf(file).some((s) => s.startsWith('./'))))
})

layering.run()
