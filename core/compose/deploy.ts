// deploy: mode and replicas, placement, resources, restart and update policy, service labels.
//   mode replicated → replicated; global → global; replicated-job → job (replicas completions);
//   global-job → job with one completion and a warning: peer has no run-once-per-host job, so give
//   the count you want as x-peer: { replicas: N }.
//   replicas with global or global-job is an error, as in `docker stack deploy`.
//   endpoint_mode and rollback_config are ignored with a warning.

import { SPEC_LIMITS } from '../service-spec/index.js'
import { DEPLOY_FIELDS } from './fields.js'
import { join } from './field-path.js'
import { readPlacement, type WrittenPlacement } from './placement.js'
import type { ServiceContext } from './project.js'
import { readRestartPolicy, type WrittenRestart } from './restart.js'
import { readUpdateConfig, type WrittenUpdate } from './rollout.js'
import { checkKeys, readMap, readString, readWhole } from './values.js'

export interface WrittenDeploy extends WrittenPlacement {
  mode?: 'replicated' | 'global' | 'job'
  replicas?: number
  restart?: WrittenRestart
  update?: WrittenUpdate
  /** deploy.labels as written, for labels.ts to merge with the service's labels. */
  labels?: unknown
}

export function readDeploy(value: unknown, context: ServiceContext): WrittenDeploy {
  const path = join(context.path, 'deploy')
  const { report } = context
  const deploy = readMap(value, path, report, 'a map such as { replicas: 2, resources: { limits: { memory: 512M } } }')
  if (deploy === undefined) return {}
  checkKeys(deploy, DEPLOY_FIELDS, path, report)
  const written: WrittenDeploy = {}
  const mode = readString(deploy.mode, join(path, 'mode'), report) ?? 'replicated'
  const replicas = readWhole(deploy.replicas, join(path, 'replicas'), report, 0, SPEC_LIMITS.maxReplicas)
  switch (mode) {
    case 'replicated':
      break
    case 'global':
      written.mode = 'global'
      break
    case 'replicated-job':
      written.mode = 'job'
      break
    case 'global-job':
      written.mode = 'job'
      report.warn(join(path, 'mode'), 'peer has no job that runs once on every host; it runs once (give the count as x-peer: { replicas: N })')
      break
    default:
      report.error(join(path, 'mode'), 'expected replicated, global, replicated-job or global-job')
  }
  if (replicas !== undefined) {
    if (mode === 'global' || mode === 'global-job') report.error(join(path, 'replicas'), 'replicas can only be used with replicated or replicated-job mode')
    else written.replicas = replicas
  }
  Object.assign(written, readPlacement(deploy.placement, join(path, 'placement'), report))
  const restart = readRestartPolicy(deploy.restart_policy, join(path, 'restart_policy'), report)
  if (restart !== undefined) written.restart = restart
  const update = readUpdateConfig(deploy.update_config, join(path, 'update_config'), report)
  if (update !== undefined) written.update = update
  if (deploy.rollback_config !== undefined && deploy.rollback_config !== null) {
    report.warn(join(path, 'rollback_config'), 'ignored: peer rolls back with the update policy (update_config)')
  }
  if (deploy.endpoint_mode !== undefined) report.warn(join(path, 'endpoint_mode'), 'ignored: peer has no virtual IPs or service DNS yet')
  if (deploy.labels !== undefined) written.labels = deploy.labels
  return written
}
