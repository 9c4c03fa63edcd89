// update_config, as peer's rolling update:
//   parallelism          → parallelism (0, "all at once", → the most peer allows, which is all)
//   delay, order         → delay, order
//   failure_action       → rollback: autoRollback true; pause: false (peer stops a failed update);
//                          continue: false, with a warning (peer does not carry on past a failure)
//   monitor              → healthDeadline (a wave must be healthy within it); 0 keeps peer's default
//   max_failure_ratio    → ignored with a warning unless 0: any failed wave fails the update
// rollback_config is ignored with a warning: peer rolls back with the update policy.

import { DURATION_RANGES, SPEC_LIMITS } from '../service-spec/index.js'
import { readDuration, readDurationAtLeast } from './durations.js'
import { UPDATE_CONFIG_FIELDS } from './fields.js'
import { join } from './field-path.js'
import type { Report } from './report.js'
import { parseGoDurationMs } from './units.js'
import { checkKeys, readMap, readString, readWhole } from './values.js'

export interface WrittenUpdate {
  parallelism?: number
  delay?: string
  order?: 'stop-first' | 'start-first'
  autoRollback?: boolean
  healthDeadline?: string
}

export function readUpdateConfig(value: unknown, path: string, report: Report): WrittenUpdate | undefined {
  const config = readMap(value, path, report, 'a map such as { parallelism: 1, delay: 10s, order: start-first }')
  if (config === undefined) return undefined
  checkKeys(config, UPDATE_CONFIG_FIELDS, path, report)
  const update: WrittenUpdate = {}
  const parallelism = readWhole(config.parallelism, join(path, 'parallelism'), report, 0, SPEC_LIMITS.maxReplicas)
  if (parallelism !== undefined) update.parallelism = parallelism === 0 ? SPEC_LIMITS.maxReplicas : parallelism
  if (config.delay !== undefined && config.delay !== null) {
    const delay = readDuration(config.delay, DURATION_RANGES.update.delay, join(path, 'delay'), report)
    if (delay !== undefined) update.delay = delay
  }
  const order = readString(config.order, join(path, 'order'), report)
  if (order === 'stop-first' || order === 'start-first') update.order = order
  else if (order !== undefined) report.error(join(path, 'order'), 'expected stop-first or start-first')
  const action = readString(config.failure_action, join(path, 'failure_action'), report)
  if (action === 'rollback') update.autoRollback = true
  else if (action === 'pause') update.autoRollback = false
  else if (action === 'continue') {
    update.autoRollback = false
    report.warn(join(path, 'failure_action'), 'peer stops an update whose wave fails (as pause does); it does not continue past a failure')
  } else if (action !== undefined) report.error(join(path, 'failure_action'), 'expected rollback, pause or continue')
  if (config.monitor !== undefined && config.monitor !== null && parseGoDurationMs(config.monitor) !== 0) {
    const deadline = readDurationAtLeast(config.monitor, DURATION_RANGES.update.healthDeadline, join(path, 'monitor'), report)
    if (deadline !== undefined) update.healthDeadline = deadline
  }
  const ratio = config.max_failure_ratio
  if (ratio !== undefined && ratio !== null && ratio !== 0 && ratio !== '0') {
    report.warn(join(path, 'max_failure_ratio'), 'ignored: peer fails an update at its first failed wave')
  }
  return update
}
