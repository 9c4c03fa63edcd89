// The dependency direction of DESIGN.md, checked by reading imports:
//   cli → node → {crdt, p2p} → core,   cli → sim → core,   {crdt, node} → io,   bench → anything.
// The core must also stay pure (no clock, randomness, environment, timers or I/O), because the
// simulator's answers are only the cluster's answers if both run the very same decisions. And no
// file may import itself through others.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
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

/** Top-level folder of a repository path: the folder is the area. */
function areaOf(path: string): string {
  return relative(root, path).split('/')[0]!
}

const ALLOWED: Record<string, readonly string[]> = {
  core: ['core'],
  io: ['io'],
  crdt: ['core', 'io', 'crdt'],
  p2p: ['core', 'p2p'],
  sim: ['core', 'sim'],
  node: ['core', 'io', 'crdt', 'p2p', 'node'],
  cli: ['core', 'crdt', 'p2p', 'node', 'sim', 'cli'],
}

const layering = suite('architecture')

layering('each area imports only the areas below it', () => {
  const problems: string[] = []
  for (const area of Object.keys(ALLOWED)) {
    for (const file of sourceFiles(area)) {
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

layering('no file imports itself through others, type imports included', () => {
  // A circle makes its files one unit: none can be read, tested or replaced without the rest.
  const files = Object.keys(ALLOWED).flatMap(sourceFiles)
  const known = new Set(files)
  const imports = new Map(files.map((file) => [file, importsOf(file).filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts')).filter((target) => known.has(target))]))
  const circles: string[] = []
  const done = new Set<string>()
  const visit = (file: string, path: string[]): void => {
    const at = path.indexOf(file)
    if (at >= 0) {
      circles.push([...path.slice(at), file].map((f) => relative(root, f)).join(' → '))
      return
    }
    if (done.has(file)) return
    for (const target of imports.get(file) ?? []) visit(target, [...path, file])
    done.add(file)
  }
  for (const file of files) visit(file, [])
  assert.equal(circles, [])
})

layering('every top-level folder of source code has a place in the layering', () => {
  const unplaced = readdirSync(root).filter((name) =>
    !['node_modules', 'dist', 'test', 'bench', 'scripts'].includes(name) && !name.startsWith('.') &&
    statSync(join(root, name)).isDirectory() && sourceFiles(name).length > 0 && !(name in ALLOWED))
  assert.equal(unplaced, [])
})

/**
 * Units with a public face (their index.ts): code outside a unit imports it only through that face,
 * so what a folder offers is written down in one place. Tests and benchmarks may reach inside. A
 * unit may have a second, light face, client.ts: what short-lived CLI commands need of it, loading
 * no package (checked below), so that `peer status` does not start by loading libp2p and Automerge.
 */
const UNITS = ['core', 'io', 'crdt', 'p2p', 'sim', 'node/agent', 'node/runtime', 'node/control', 'node/discovery'] as const

function unitOf(path: string): string | undefined {
  const rel = relative(root, path)
  return UNITS.filter((unit) => rel === unit || rel.startsWith(`${unit}/`)).sort((a, b) => b.length - a.length)[0]
}

layering('code outside a unit imports it only through its index.ts, which names what it exports', () => {
  const problems: string[] = []
  for (const area of Object.keys(ALLOWED)) {
    for (const file of sourceFiles(area)) {
      const own = unitOf(file)
      for (const specifier of importsOf(file)) {
        if (!specifier.startsWith('.')) continue
        const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts')
        const unit = unitOf(target)
        if (unit === undefined || unit === own) continue
        if (target !== join(root, unit, 'index.ts') && target !== join(root, unit, 'client.ts')) problems.push(`${relative(root, file)} imports ${specifier}, inside ${unit}/`)
      }
    }
  }
  for (const unit of UNITS) {
    for (const file of sourceFiles(unit).filter((path) => path.endsWith('/index.ts'))) {
      if (/^export \*/m.test(readFileSync(file, 'utf8'))) problems.push(`${relative(root, file)} re-exports with export *`)
    }
  }
  assert.equal(problems, [])
})

/** Runtime imports only: `import type` and `export type` are gone once compiled. */
function runtimeImportsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const found: string[] = []
  for (const match of text.matchAll(/^(import|export)\s+(type\s)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|^import\s+['"]([^'"]+)['"]/gm)) {
    if (match[2] !== undefined) continue
    found.push((match[3] ?? match[4] ?? match[5])!)
  }
  return found
}

layering('a unit\'s client.ts loads no package, however deep its imports go', () => {
  const problems: string[] = []
  for (const unit of UNITS) {
    const face = join(root, unit, 'client.ts')
    if (!existsSync(face)) continue
    const seen = new Set<string>()
    const visit = (file: string, via: readonly string[]): void => {
      if (seen.has(file)) return
      seen.add(file)
      const path = [...via, relative(root, file)]
      for (const specifier of runtimeImportsOf(file)) {
        if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier).replace(/\.js$/, '.ts'), path)
        else if (!specifier.startsWith('node:')) problems.push(`${unit}/client.ts loads ${specifier} (${path.join(' → ')})`)
      }
    }
    visit(face, [])
  }
  assert.equal(problems, [])
})

layering('the core imports nothing outside itself, not even node built-ins or packages', () => {
  const problems: string[] = []
  for (const file of sourceFiles('core')) {
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) problems.push(`${relative(root, file)} imports ${specifier}`)
    }
  }
  assert.equal(problems, [])
})

layering('the core reads no clock, randomness, environment or timers', () => {
  const forbidden = /\bDate\.now\(|new Date\(|Math\.random\(|\bprocess\.|setTimeout\(|setInterval\(|setImmediate\(|performance\.now\(|\brequire\(|crypto\.getRandomValues/
  const problems: string[] = []
  for (const file of sourceFiles('core')) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, '')
      if (forbidden.test(code)) problems.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`)
    })
  }
  assert.equal(problems, [])
})

layering('the import scanner sees imports (so the checks above cannot pass vacuously)', () => {
  const files = sourceFiles('core')
  assert.ok(files.length > 5)
  assert.ok(files.some((file) => importsOf(file).some((s) => s.startsWith('./'))))
})

layering.run()
