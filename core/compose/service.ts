// One compose service as one peer service in its written form. Every field either maps (each mapper
// is its own file), is ignored with exactly one warning (fields.ts gives the reason), or is an error:
// unknown fields, `build:` without `image:`, values peer cannot take.

import { SPEC_LIMITS } from '../service-spec/index.js'
import { readCommand } from './command.js'
import { readContainer } from './container.js'
import { readDeploy } from './deploy.js'
import { readEnvironment } from './environment.js'
import { IGNORED_SERVICE_FIELDS, MAPPED_SERVICE_FIELDS } from './fields.js'
import { join } from './field-path.js'
import { readHealthcheck } from './healthcheck.js'
import { readLabels } from './labels.js'
import { serviceNameProblem } from './names.js'
import { checkServiceNetworks } from './networks.js'
import { readExpose, readPorts } from './ports.js'
import type { Project, ServiceContext } from './project.js'
import type { Report } from './report.js'
import { readResources } from './resources.js'
import { readRestartString } from './restart.js'
import { readFileReferences } from './secrets.js'
import { closestName } from './spelling.js'
import { isExtension, isMap, readString, readWhole } from './values.js'
import { readMounts } from './volumes.js'
import { mergePeerFields } from './x-peer.js'

const KNOWN_FIELDS = [...MAPPED_SERVICE_FIELDS, ...Object.keys(IGNORED_SERVICE_FIELDS)]

export function translateService(name: string, body: unknown, project: Project, report: Report): Record<string, unknown> | undefined {
  const path = join('services', name)
  const nameProblem = serviceNameProblem(name)
  if (nameProblem !== undefined) report.error(path, nameProblem)
  if (!isMap(body)) {
    report.error(path, 'expected a service (a map of fields)')
    return undefined
  }
  const context: ServiceContext = { name, path, report, project }
  checkFields(body, path, report)

  const out: Record<string, unknown> = { name }
  const set = (key: string, value: unknown): void => {
    if (value !== undefined) out[key] = value
  }
  const peer = body['x-peer']
  set('image', readImage(body, isMap(peer) && peer.driver === 'process', context))
  const command = readCommand(body.command, join(path, 'command'), report)
  if (command !== undefined && command.length > 0) out.command = command
  set('entrypoint', readCommand(body.entrypoint, join(path, 'entrypoint'), report))
  set('env', readEnvironment(body, context))

  const deploy = readDeploy(body.deploy, context)
  set('mode', deploy.mode)
  set('replicas', readReplicas(body.scale, deploy.replicas, context))
  set('resources', readResources(isMap(body.deploy) ? body.deploy.resources : undefined, body, context))
  set('constraints', deploy.constraints)
  set('maxPerNode', deploy.maxPerNode)
  set('spreadBy', deploy.spreadBy)
  const written = readPorts(body.ports, context)
  const ports = [...written, ...readExpose(body.expose, written, context)]
  if (ports.length > 0) out.ports = ports
  set('healthcheck', readHealthcheck(body.healthcheck, context))
  const restart = readRestartString(body.restart, join(path, 'restart'), report)
  if (deploy.restart !== undefined && restart !== undefined) report.warn(join(path, 'restart'), 'ignored: deploy.restart_policy is given and takes precedence')
  set('restart', deploy.restart ?? restart)
  set('update', deploy.update)
  set('labels', readLabels(body, deploy.labels, context))
  const secrets = [...readFileReferences('secret', body.secrets, context), ...readFileReferences('config', body.configs, context)]
  if (secrets.length > 0) out.secrets = secrets
  const container = readContainer(body, context)
  set('user', container.user)
  set('workdir', container.workdir)
  const { mounts, named } = readMounts(body.volumes, body.tmpfs, context)
  if (mounts.length > 0) out.mounts = mounts
  set('capAdd', container.capAdd)
  set('capDrop', container.capDrop)
  set('stopGrace', container.stopGrace)
  checkServiceNetworks(body.networks, context)

  const service = mergePeerFields(out, peer, join(path, 'x-peer'), report)
  if (named && (service.mode === 'global' || (typeof service.replicas === 'number' && service.replicas > 1))) {
    report.warn(join(path, 'volumes'), 'named volumes are per host: replicas on different hosts each have their own copy, and replicas on one host share one')
  }
  return service
}

/** Unknown fields are errors (with the closest known name); fields peer has nothing for, one warning each. */
function checkFields(body: Record<string, unknown>, path: string, report: Report): void {
  for (const key of Object.keys(body)) {
    if (isExtension(key) || (MAPPED_SERVICE_FIELDS as readonly string[]).includes(key)) continue
    const reason = IGNORED_SERVICE_FIELDS[key]
    if (reason !== undefined) {
      report.warn(join(path, key), `ignored: ${reason}`)
      continue
    }
    const suggestion = closestName(key, KNOWN_FIELDS)
    report.error(join(path, key), `unknown field: not in the compose specification${suggestion === undefined ? '' : `; did you mean ${suggestion}?`}`)
  }
}

/** The image to run. peer builds nothing: `build:` is ignored next to an image and refused without one. */
function readImage(body: Record<string, unknown>, processDriver: boolean, context: ServiceContext): string | undefined {
  const { path, report } = context
  const image = readString(body.image, join(path, 'image'), report)
  if (body.build !== undefined && body.build !== null) {
    if (image !== undefined) report.warn(join(path, 'build'), `ignored: peer does not build images; it runs ${image}, which the hosts must have (\`peer image load\`)`)
    else if (!processDriver) report.error(join(path, 'build'), 'peer does not build images; build and load it (`peer image load`) and set image:')
  } else if (image === undefined && !processDriver) {
    report.error(path, 'a service needs an image: peer runs images the hosts have (`peer image load`)')
  }
  return image
}

/** deploy.replicas, or the service-level `scale` of docker compose; both must agree. */
function readReplicas(scale: unknown, replicas: number | undefined, context: ServiceContext): number | undefined {
  const path = join(context.path, 'scale')
  const scaled = readWhole(scale, path, context.report, 0, SPEC_LIMITS.maxReplicas)
  if (scaled !== undefined && replicas !== undefined && scaled !== replicas) {
    context.report.error(path, 'differs from deploy.replicas; give one of them')
  }
  return replicas ?? scaled
}
