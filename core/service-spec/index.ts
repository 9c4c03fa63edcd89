export {
  type Constraint,
  CONSTRAINT_OPS,
  type ConstraintOp,
  type Driver,
  DRIVERS,
  type HealthcheckSpec,
  type Mode,
  MODES,
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
  type SpecError,
  type SpecResult,
  validateService,
  validateServices,
} from './validate.js'
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
  missingSecrets,
  resolveSecretVersions,
  SECRET_LIMITS,
  SECRET_NAME_PATTERN,
  unresolvedSecrets,
  validateSecretRefs,
  writtenSecretRefs,
} from './secrets.js'
