// tsc compiles only .ts: the web view's page files (node/web/ui/*.html, *.js, *.css) are copied
// beside the compiled node/web/*.js, where node/web/page-files.ts looks for them. Run by `npm run
// build` and by test/peer-command.ts after each build.
import { cpSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
cpSync(join(root, 'node', 'web', 'ui'), join(root, 'dist', 'node', 'web', 'ui'), { recursive: true })
