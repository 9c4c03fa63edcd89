// The page's files, read once when the web view starts and served from memory: its own (ui/ beside
// this module: node/web/ui in the sources, dist/node/web/ui in the build, copied there by
// scripts/copy-web-ui.mjs because tsc compiles only .ts) and the ESM builds of preact and htm from
// node_modules, under /ui/vendor/. The page loads nothing from anywhere else.

import { readdir, readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface PageFile {
  readonly contentType: string
  readonly body: Buffer
}

/** The browser's import map (ui/index.html) names these: `preact/hooks` imports `preact` by name. */
const VENDOR_MODULES: Readonly<Record<string, string>> = {
  'preact.mjs': 'preact',
  'hooks.mjs': 'preact/hooks',
  'htm.mjs': 'htm',
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** Every file the page may load, by URL path (`/ui/app.js`, `/ui/vendor/preact.mjs`). */
export async function loadPageFiles(): Promise<ReadonlyMap<string, PageFile>> {
  const files = new Map<string, PageFile>()
  const own = fileURLToPath(new URL('./ui/', import.meta.url))
  let names: string[]
  try {
    names = await readdir(own)
  } catch (error) {
    throw new Error(`the web view's files are missing from ${own} (a build without scripts/copy-web-ui.mjs?): ${String(error)}`)
  }
  for (const name of names) {
    const type = CONTENT_TYPES[extname(name)]
    if (type !== undefined) files.set(`/ui/${name}`, { contentType: type, body: await readFile(join(own, name)) })
  }
  for (const [name, specifier] of Object.entries(VENDOR_MODULES)) {
    files.set(`/ui/vendor/${name}`, { contentType: CONTENT_TYPES['.mjs']!, body: await readFile(fileURLToPath(import.meta.resolve(specifier))) })
  }
  if (!files.has('/ui/index.html')) throw new Error(`the web view's index.html is missing from ${own}`)
  return files
}
