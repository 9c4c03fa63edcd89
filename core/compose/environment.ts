// environment and env_file, as compose resolves them: values from the env files first (later files
// win), then `environment:` over them. An entry with no value (`- KEY`, or `KEY:` with nothing) takes
// the value the compose environment (process env over .env) has, and is left out when that has none.
// Names must be environment variable names, peer's rule for env. A value holding a Swarm template
// (`{{.Node.ID}}`, which `docker stack deploy` fills in per task) is kept as written, with a warning:
// peer fills in no templates, and the task would see the braces.

import { quoted } from '../error-message.js'
import { ENV_NAME, ENV_NAME_RULE } from '../service-spec/index.js'
import { join } from './field-path.js'
import { readKeyValueFiles } from './key-value-files.js'
import type { ServiceContext } from './project.js'
import { put, readPairs } from './values.js'

export function readEnvironment(service: Record<string, unknown>, context: ServiceContext): Record<string, string> | undefined {
  const { report, project } = context
  const pairs = readPairs(service.environment, join(context.path, 'environment'), report) ?? []
  const fromProject = (name: string): string | undefined => (Object.hasOwn(project.environment, name) ? project.environment[name] : undefined)
  // Substitution in env files sees the compose environment first, then the service's own environment.
  const written = new Map(pairs.filter((pair) => pair.value !== null).map((pair) => [pair.key, pair.value!]))
  const fromFiles = readKeyValueFiles(service.env_file, 'env_file', context, (name) => fromProject(name) ?? written.get(name))
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(fromFiles)) {
    if (validName(key)) put(env, key, value)
    else report.error(join(context.path, 'env_file'), `${quoted(key)} is not ${ENV_NAME_RULE_TEXT}`)
  }
  for (const pair of pairs) {
    if (!validName(pair.key)) {
      report.error(pair.path, `${quoted(pair.key)} is not ${ENV_NAME_RULE_TEXT}`)
      continue
    }
    const value = pair.value ?? fromProject(pair.key)
    // As Compose does: a name passed through from an environment that does not set it is left out
    // of the task's environment, without a word (files list hundreds of optional ones).
    if (value === undefined) continue
    if (SWARM_TEMPLATE.test(value)) report.warn(pair.path, `kept as written: peer fills in no Swarm templates such as ${SWARM_TEMPLATE.exec(value)![0]}`)
    put(env, pair.key, value)
  }
  return Object.keys(env).length > 0 ? env : undefined
}

/** A Go template placeholder as Swarm fills them in: `{{.Node.ID}}`, `{{ .Task.Slot }}`. */
const SWARM_TEMPLATE = /\{\{\s*\.(?:Service|Node|Task)\b[^}]*\}\}/

const ENV_NAME_RULE_TEXT = `an environment variable name (${ENV_NAME_RULE})`

function validName(name: string): boolean {
  return ENV_NAME.test(name) && name !== '__proto__'
}
