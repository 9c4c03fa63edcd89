export {
  type Constraint,
  CONSTRAINT_OPS,
  type ConstraintOp,
  type Driver,
  DRIVERS,
  type HealthcheckSpec,
  type Mode,
  MODES,
  MOUNT_TYPES,
  type MountSpec,
  type MountType,
  PARTITION_POLICIES,
  type PartitionPolicy,
  type PortMode,
  PORT_MODES,
  type PortSpec,
  type Protocol,
  type Resources,
  RESTART_CONDITIONS,
  type RestartCondition,
  type RestartPolicy,
  type SecretRef,
  type ServiceSpec,
  STRATEGIES,
  type Strategy,
  UPDATE_ORDERS,
  type UpdateOrder,
  type UpdatePolicy,
} from './types.js'
export {
  addResources,
  clamp01,
  freeFraction,
  NO_RESOURCES,
  shortfall,
  subtractResources,
  unitsThatFit,
} from './resources.js'
export {
  checked,
  compileConstraint,
  type CompiledConstraint,
  formatConstraint,
  parseConstraint,
} from './constraints.js'
export { parseCpuMilli, parseDurationMs, parseMemoryMiB } from './units.js'
export {
  DEFAULT_HEALTHCHECK_TIMING,
  DEFAULT_RESOURCES,
  DEFAULT_UPDATE,
  defaultRestart,
  isRecord,
  type SpecResult,
  validateService,
  validateServices,
} from './validate.js'
export { type SpecError } from './field-errors.js'
export { ALL_CAPABILITIES, LINUX_CAPABILITIES, normalCapability } from './capabilities.js'
export { VOLUME_NAME_PATTERN } from './mounts.js'
export { isCleanAbsolutePath, PATH_RULE } from './paths.js'
export {
  DURATION_RANGES,
  type DurationRange,
  ENV_NAME,
  ENV_NAME_RULE,
  formatDurationMs,
  LABEL_KEY,
  LABEL_KEY_RULE,
  RESOURCE_LIMITS,
  SPEC_LIMITS,
} from './limits.js'
export { specDigest, specHash } from './version.js'
export { toWrittenForm } from './written-form.js'
export {
  assumeSecretsExist,
  CONTAINER_SECRETS_DIR,
  missingSecrets,
  resolveSecretVersions,
  SECRET_LIMITS,
  SECRET_NAME_PATTERN,
  secretFileName,
  type SecretTargetRules,
  unresolvedSecrets,
  validateSecretRefs,
  writtenSecretRefs,
} from './secrets.js'
export { boundPortOf, boundPortsFit, hostModePorts, isIngress, portKey, TASK_PORT_RANGE, taskPorts } from './ports.js'
export { publishedPortClash, type PortClash } from './published-ports.js'
