// The `peer` bin users run: the compiled CLI (dist/cli/main.js, from tsc) bundled with its
// dependencies and minified into dist/bin/. An idle agent's heap is mostly module code — libp2p and
// its crypto, Automerge, the CLI — and one minified bundle holds it in about half the memory that
// hundreds of separate ESM modules do: an idle agent alone 103 → 89 MB RSS, each of five idle
// agents 137 → 104 MB (BENCHMARKS.md, *What an idle agent costs*). Each command is still loaded
// only when run (code splitting keeps cli/main.ts's lazy imports lazy).
//
// Left outside the bundle: ssh2's optional native parts (dockerode loads them by require) and
// dockerode itself, which node/runtime/docker-loader.ts loads only when a Docker engine is used.
// Files the code reads beside itself are copied next to the bundle: Automerge's wasm and the web
// view's page files. Run by `npm run build` after tsc and copy-web-ui.mjs, and by test/peer-command.ts.

import { build } from 'esbuild'
import { chmodSync, cpSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const out = join(root, 'dist', 'bin')
rmSync(out, { recursive: true, force: true })

await build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minify: true,
  // Maps beside the chunks: an operator reporting a crash runs with NODE_OPTIONS=--enable-source-maps
  // to get stack traces in the sources' names and lines (without the flag Node never reads them).
  sourcemap: 'linked',
  // Bundled CommonJS dependencies expect these; in an ES module they must be made.
  banner: {
    js: [
      "import { createRequire as __peerRequire } from 'node:module'",
      "import { fileURLToPath as __peerPath } from 'node:url'",
      "import { dirname as __peerDirname } from 'node:path'",
      'const require = __peerRequire(import.meta.url)',
      'const __filename = __peerPath(import.meta.url)',
      'const __dirname = __peerDirname(__filename)',
    ].join(';'),
  },
  external: ['ssh2', 'cpu-features', 'dockerode'],
  logLevel: 'warning',
})
chmodSync(join(out, 'main.js'), 0o755)

// Automerge's Node build reads its wasm from its own directory (__dirname), now dist/bin.
const automergeEntry = fileURLToPath(import.meta.resolve('@automerge/automerge'))
const automerge = automergeEntry.slice(0, automergeEntry.lastIndexOf('/dist/'))
cpSync(join(automerge, 'dist', 'mjs', 'wasm_bindgen_output', 'nodejs', 'automerge_wasm_bg.wasm'), join(out, 'automerge_wasm_bg.wasm'))
// node/web/page-files.ts reads ./ui/ beside its own module, which is now a chunk in dist/bin.
cpSync(join(root, 'dist', 'node', 'web', 'ui'), join(out, 'ui'), { recursive: true })
