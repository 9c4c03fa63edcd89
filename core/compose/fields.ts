// The fields of the compose specification (schema/compose-spec.json), object by object. A key outside
// its object's list is an error, as an unknown field is in peer's own format: a typo must not deploy
// as if it were not there. Extension fields (`x-…`) are allowed everywhere.

export const TOP_LEVEL_FIELDS = ['version', 'name', 'include', 'services', 'models', 'networks', 'volumes', 'secrets', 'configs'] as const

/** Service fields that map onto peer's service (service.ts reads each). */
export const MAPPED_SERVICE_FIELDS = [
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'labels', 'label_file', 'ports', 'expose', 'healthcheck',
  'deploy', 'restart', 'scale', 'cpus', 'mem_limit', 'mem_reservation', 'pids_limit', 'user', 'working_dir',
  'stop_grace_period', 'cap_add', 'cap_drop', 'init', 'volumes', 'tmpfs', 'secrets', 'configs', 'networks', 'profiles',
  'extends',
] as const

/**
 * Service fields peer has nothing for, each with the reason the warning gives. Each yields exactly one
 * warning, `services.X.field: ignored: reason`.
 */
export const IGNORED_SERVICE_FIELDS: Readonly<Record<string, string>> = {
  annotations: 'peer sets no OCI annotations',
  attach: 'peer collects every task\'s output itself (peer logs)',
  blkio_config: 'peer sets no block I/O weights or limits',
  cgroup: 'peer uses the engine\'s default cgroup namespace',
  cgroup_parent: 'peer uses the engine\'s default parent cgroup',
  container_name: 'peer names each task\'s container itself, one per replica',
  cpu_count: 'peer reserves cpu by deploy.resources (or cpus) only',
  cpu_percent: 'peer reserves cpu by deploy.resources (or cpus) only',
  cpu_period: 'peer reserves cpu by deploy.resources (or cpus) only',
  cpu_quota: 'peer reserves cpu by deploy.resources (or cpus) only',
  cpu_rt_period: 'peer reserves cpu by deploy.resources (or cpus) only',
  cpu_rt_runtime: 'peer reserves cpu by deploy.resources (or cpus) only',
  cpu_shares: 'peer reserves cpu by deploy.resources (or cpus) only',
  cpuset: 'peer does not pin tasks to cpus',
  credential_spec: 'Windows containers only',
  depends_on: 'peer starts services independently and restarts failed tasks; let clients retry, or gate readiness with a healthcheck',
  develop: 'for `docker compose watch` during development',
  device_cgroup_rules: 'peer passes no host devices to tasks',
  devices: 'peer passes no host devices to tasks',
  dns: 'peer gives containers its agent\'s resolver, which answers service names and forwards the rest',
  dns_opt: 'peer gives containers its agent\'s resolver, which answers service names and forwards the rest',
  dns_search: 'peer gives containers its agent\'s resolver, which answers service names and forwards the rest',
  domainname: 'peer sets no container domain name',
  external_links: 'peer has no container links',
  extra_hosts: 'peer adds no /etc/hosts entries',
  gpus: 'peer passes no GPUs; count them as an extended resource with deploy.resources.reservations.generic_resources',
  group_add: 'peer adds no supplementary groups',
  hostname: 'peer sets no container host name',
  ipc: 'peer uses the engine\'s default IPC namespace',
  isolation: 'Windows containers only',
  links: 'peer has no container links',
  logging: 'peer keeps the engine\'s log driver and reads task output itself (peer logs)',
  mac_address: 'peer sets no MAC addresses',
  mem_swappiness: 'peer sets no swap settings',
  memswap_limit: 'peer sets no swap settings',
  models: 'peer runs no models',
  network_mode: 'peer attaches tasks to the engine\'s default network',
  oom_kill_disable: 'peer sets no OOM settings',
  oom_score_adj: 'peer sets no OOM settings',
  pid: 'peer uses the engine\'s default PID namespace',
  platform: 'peer runs the image a host has and pulls nothing; constrain to peer.os or peer.arch if it matters',
  post_start: 'peer runs no lifecycle hooks',
  pre_stop: 'peer runs no lifecycle hooks',
  privileged: 'peer runs no privileged containers; add the capabilities the task needs with cap_add',
  provider: 'peer runs containers only',
  pull_policy: 'peer does not pull images; load them with `peer image load`',
  pull_refresh_after: 'peer does not pull images; load them with `peer image load`',
  read_only: 'peer has no read-only root file system setting',
  runtime: 'peer uses the engine\'s default runtime',
  security_opt: 'peer sets no security options',
  shm_size: 'peer sets no /dev/shm size',
  stdin_open: 'peer runs tasks without stdin',
  stop_signal: 'peer has no stop signal setting; the task gets the image\'s',
  storage_opt: 'peer sets no storage driver options',
  sysctls: 'peer sets no kernel parameters',
  tty: 'peer runs tasks without a terminal',
  ulimits: 'peer sets no ulimits; the engine\'s defaults apply',
  use_api_socket: 'peer does not hand the engine\'s socket to tasks',
  userns_mode: 'peer uses the engine\'s default user namespace',
  uts: 'peer uses the engine\'s default UTS namespace',
  volumes_from: 'peer does not share one task\'s volumes with another; mount the same named volume in both services',
}

export const DEPLOY_FIELDS = ['endpoint_mode', 'labels', 'mode', 'placement', 'replicas', 'resources', 'restart_policy', 'rollback_config', 'update_config']
export const RESOURCES_FIELDS = ['limits', 'reservations']
export const LIMITS_FIELDS = ['cpus', 'memory', 'pids']
export const RESERVATIONS_FIELDS = ['cpus', 'memory', 'generic_resources', 'devices']
export const RESTART_POLICY_FIELDS = ['condition', 'delay', 'max_attempts', 'window']
export const UPDATE_CONFIG_FIELDS = ['parallelism', 'delay', 'failure_action', 'monitor', 'max_failure_ratio', 'order']
export const PLACEMENT_FIELDS = ['constraints', 'preferences', 'max_replicas_per_node']
export const HEALTHCHECK_FIELDS = ['disable', 'interval', 'retries', 'test', 'timeout', 'start_period', 'start_interval']
export const PORT_FIELDS = ['name', 'mode', 'host_ip', 'target', 'published', 'protocol', 'app_protocol']
export const VOLUME_FIELDS = ['type', 'source', 'target', 'read_only', 'consistency', 'bind', 'volume', 'tmpfs', 'image']
export const FILE_REFERENCE_FIELDS = ['source', 'target', 'uid', 'gid', 'mode']
export const ENV_FILE_FIELDS = ['path', 'format', 'required']
export const EXTENDS_FIELDS = ['service', 'file']
export const SECRET_FIELDS = ['name', 'environment', 'file', 'external', 'labels', 'driver', 'driver_opts', 'template_driver']
export const CONFIG_FIELDS = ['name', 'content', 'environment', 'file', 'external', 'labels', 'template_driver']
export const TOP_VOLUME_FIELDS = ['name', 'driver', 'driver_opts', 'external', 'labels']
export const NETWORK_FIELDS = ['name', 'driver', 'driver_opts', 'ipam', 'external', 'internal', 'enable_ipv4', 'enable_ipv6', 'attachable', 'labels']
