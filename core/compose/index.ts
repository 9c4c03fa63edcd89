// Compose files as peer services: a pure translation from parsed docker-compose.yml / stack files to
// peer's written form (what a user would write in app.yaml), plus the warnings for what peer ignores
// and the secrets to create. The CLI reads the files and validates the result. docs/compose.md has
// the full mapping.
export { documentFormat, looksLikeCompose } from './detect.js'
export { dotenv, type DotenvResult } from './dotenv.js'
export { composeDeclarations, toCompose } from './to-compose.js'
export { translateCompose } from './translate.js'
export type { ComposeOptions, ComposeProblem, ComposeResult, ComposeSecret, ComposeSource } from './types.js'
