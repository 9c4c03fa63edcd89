// deploy: mode, replicas, resources, placement, restart and update policy, one table per part.

import { suite } from 'uvu'
import { checkErrors, checkMappings } from './translate-one.js'

const Deploy = suite('deploy')

Deploy('mode and replicas', () => {
  checkMappings([
    { what: 'replicas', input: { deploy: { replicas: 3 } }, output: { replicas: 3 } },
    { what: 'replicas as an interpolated string', input: { deploy: { replicas: '0' } }, output: { replicas: 0 } },
    { what: 'replicated mode is the default', input: { deploy: { mode: 'replicated', replicas: 2 } }, output: { replicas: 2 } },
    { what: 'global', input: { deploy: { mode: 'global' } }, output: { mode: 'global' } },
    { what: 'replicated-job', input: { deploy: { mode: 'replicated-job', replicas: 5 } }, output: { mode: 'job', replicas: 5 } },
    { what: 'global-job runs once', input: { deploy: { mode: 'global-job' } }, output: { mode: 'job' }, warnings: ['services.web.deploy.mode: peer has no job that runs once on every host'] },
    { what: 'global-job with a count from x-peer', input: { deploy: { mode: 'global-job' }, 'x-peer': { replicas: 4 } }, output: { mode: 'job', replicas: 4 }, warnings: ['deploy.mode'] },
    { what: 'scale', input: { scale: 2 }, output: { replicas: 2 } },
    { what: 'scale agreeing with deploy.replicas', input: { scale: 2, deploy: { replicas: 2 } }, output: { replicas: 2 } },
    { what: 'endpoint_mode', input: { deploy: { endpoint_mode: 'vip' } }, output: {}, warnings: ['services.web.deploy.endpoint_mode: ignored'] },
    { what: 'rollback_config', input: { deploy: { rollback_config: { parallelism: 2 } } }, output: {}, warnings: ['services.web.deploy.rollback_config: ignored: peer rolls back with the update policy'] },
  ])
  checkErrors([
    { what: 'replicas with global', input: { deploy: { mode: 'global', replicas: 2 } }, errors: ['services.web.deploy.replicas: replicas can only be used with replicated or replicated-job mode'] },
    { what: 'an unknown mode', input: { deploy: { mode: 'daemon' } }, errors: ['services.web.deploy.mode: expected replicated, global'] },
    { what: 'scale differing from deploy.replicas', input: { scale: 3, deploy: { replicas: 2 } }, errors: ['services.web.scale: differs from deploy.replicas'] },
    { what: 'negative replicas', input: { deploy: { replicas: -1 } }, errors: ['services.web.deploy.replicas: expected a whole number'] },
    { what: 'a typo in deploy', input: { deploy: { replica: 2 } }, errors: ['services.web.deploy.replica: unknown field'] },
  ])
})

Deploy('resources: one figure per resource, the limit when both differ', () => {
  checkMappings([
    { what: 'none given: no reservation and no limit, as in Swarm (not peer\'s 100m and 64 MiB, which would be enforced)', input: {}, output: { resources: { cpu: '0m', memory: 0 } } },
    { what: 'memory only: no cpu limit', input: { deploy: { resources: { limits: { memory: '64M' } } } }, output: { resources: { cpu: '0m', memory: 64 } } },
    { what: 'limits only', input: { deploy: { resources: { limits: { cpus: '0.5', memory: '50M' } } } }, output: { resources: { cpu: '500m', memory: 50 } } },
    { what: 'reservations only', input: { deploy: { resources: { reservations: { cpus: 0.25, memory: '1g' } } } }, output: { resources: { cpu: '250m', memory: 1024 } } },
    { what: 'both, equal', input: { deploy: { resources: { limits: { memory: '256M' }, reservations: { memory: '256m' } } } }, output: { resources: { cpu: '0m', memory: 256 } } },
    {
      what: 'both, different',
      input: { deploy: { resources: { limits: { cpus: '1', memory: '512M' }, reservations: { cpus: '0.5', memory: '512M' } } } },
      output: { resources: { cpu: '1000m', memory: 512 } },
      warnings: ['services.web.deploy.resources: peer reserves and limits by one figure; using the limits for cpus'],
    },
    { what: 'cpu from limits, memory from reservations', input: { deploy: { resources: { limits: { cpus: '2' }, reservations: { memory: '100M' } } } }, output: { resources: { cpu: '2000m', memory: 100 } } },
    { what: 'memory in bytes rounds up to MiB', input: { deploy: { resources: { limits: { memory: 1000 } } } }, output: { resources: { cpu: '0m', memory: 1 } } },
    {
      what: 'generic resources',
      input: { deploy: { resources: { reservations: { generic_resources: [{ discrete_resource_spec: { kind: 'gpu', value: 2 } }, { discrete_resource_spec: { kind: 'ssd', value: '1' } }] } } } },
      output: { resources: { cpu: '0m', memory: 0, gpu: 2, ssd: 1 } },
    },
    {
      what: 'named generic resources',
      input: { deploy: { resources: { reservations: { generic_resources: [{ named_resource_spec: { kind: 'gpu', value: 'GPU-1' } }] } } } },
      output: {},
      warnings: ['generic_resources[0].named_resource_spec: ignored'],
    },
    { what: 'pids', input: { deploy: { resources: { limits: { pids: 100 } } } }, output: {}, warnings: ['services.web.deploy.resources.limits.pids: ignored'] },
    { what: 'devices', input: { deploy: { resources: { reservations: { devices: [{ capabilities: ['gpu'] }] } } } }, output: {}, warnings: ['reservations.devices: ignored'] },
    { what: 'service-level cpus and mem_limit', input: { cpus: 1.5, mem_limit: '2g', mem_reservation: '1g' }, output: { resources: { cpu: '1500m', memory: 2048 } }, warnings: ['using the limits for memory'] },
    { what: 'service-level figures agreeing with deploy', input: { cpus: '0.5', deploy: { resources: { limits: { cpus: 0.5 } } } }, output: { resources: { cpu: '500m', memory: 0 } } },
    { what: 'pids_limit', input: { pids_limit: 10 }, output: {}, warnings: ['services.web.pids_limit: ignored'] },
  ])
  checkErrors([
    { what: 'a bad memory size', input: { deploy: { resources: { limits: { memory: 'lots' } } } }, errors: ['services.web.deploy.resources.limits.memory: expected a size such as "512m"'] },
    { what: 'bad cpus', input: { deploy: { resources: { limits: { cpus: 'half' } } } }, errors: ['services.web.deploy.resources.limits.cpus: expected a number of cores'] },
    { what: 'cpus differing from deploy', input: { cpus: 1, deploy: { resources: { limits: { cpus: 2 } } } }, errors: ['services.web.cpus: differs from deploy.resources.limits.cpus'] },
    { what: 'an upper-case resource kind', input: { deploy: { resources: { reservations: { generic_resources: [{ discrete_resource_spec: { kind: 'GPU', value: 1 } }] } } } }, errors: ['discrete_resource_spec.kind: "GPU" cannot name a peer extended resource'] },
    { what: 'a resource kind named cpu', input: { deploy: { resources: { reservations: { generic_resources: [{ discrete_resource_spec: { kind: 'cpu', value: 1 } }] } } } }, errors: ['kind: "cpu" cannot name'] },
    { what: 'a typo in limits', input: { deploy: { resources: { limits: { memroy: '1g' } } } }, errors: ['services.web.deploy.resources.limits.memroy: unknown field'] },
    { what: 'more cpus than peer allows', input: { deploy: { resources: { limits: { cpus: 2000 } } } }, errors: ['services.web.deploy.resources: at most 1024 cpus'] },
  ])
})

Deploy('placement: node attributes become peer labels', () => {
  checkMappings([
    {
      what: 'node labels, == and !=',
      input: { deploy: { placement: { constraints: ['node.labels.zone == eu-west', 'node.labels.disk!=hdd'] } } },
      output: { constraints: [{ label: 'zone', op: '==', value: 'eu-west' }, { label: 'disk', op: '!=', value: 'hdd' }] },
    },
    {
      what: 'built-in node attributes',
      input: { deploy: { placement: { constraints: ['node.hostname == edge-1', 'node.id==abc', 'node.platform.os == linux', 'node.platform.arch != aarch64'] } } },
      output: { constraints: [
        { label: 'peer.hostname', op: '==', value: 'edge-1' },
        { label: 'peer.id', op: '==', value: 'abc' },
        { label: 'peer.os', op: '==', value: 'linux' },
        { label: 'peer.arch', op: '!=', value: 'aarch64' },
      ] },
    },
    {
      what: 'engine labels, with a warning',
      input: { deploy: { placement: { constraints: ['engine.labels.storage == ssd'] } } },
      output: { constraints: [{ label: 'storage', op: '==', value: 'ssd' }] },
      warnings: ['constraints[0]: engine.labels.storage read as the peer label storage'],
    },
    { what: 'node.role', input: { deploy: { placement: { constraints: ['node.role == manager'] } } }, output: {}, warnings: ['services.web.deploy.placement.constraints[0]: ignored constraint: peers have no manager or worker role'] },
    { what: 'spread', input: { deploy: { placement: { preferences: [{ spread: 'node.labels.zone' }] } } }, output: { spreadBy: 'zone' } },
    {
      what: 'two spreads',
      input: { deploy: { placement: { preferences: [{ spread: 'node.labels.zone' }, { spread: 'node.labels.rack' }] } } },
      output: { spreadBy: 'zone' },
      warnings: ['services.web.deploy.placement.preferences[1]: ignored: peer spreads by one label, zone'],
    },
    { what: 'max_replicas_per_node', input: { deploy: { placement: { max_replicas_per_node: 2 } } }, output: { maxPerNode: 2 } },
    { what: 'x-peer constraints are appended', input: { deploy: { placement: { constraints: ['node.labels.a == b'] } }, 'x-peer': { constraints: ['gpu exists'] } }, output: { constraints: [{ label: 'a', op: '==', value: 'b' }, 'gpu exists'] } },
  ])
  checkErrors([
    { what: 'no operator', input: { deploy: { placement: { constraints: ['node.labels.zone'] } } }, errors: ['constraints[0]: cannot read "node.labels.zone": expected "attribute == value"'] },
    { what: 'an unknown attribute', input: { deploy: { placement: { constraints: ['node.name == x'] } } }, errors: ['constraints[0]: unknown node attribute "node.name"'] },
    { what: 'no value', input: { deploy: { placement: { constraints: ['node.labels.zone == '] } } }, errors: ['has no value after =='] },
    { what: 'a spread over no label', input: { deploy: { placement: { preferences: [{ spread: 'zone' }] } } }, errors: ['preferences[0].spread: unknown node attribute'] },
  ])
})

Deploy('restart policy, from deploy or from restart:', () => {
  checkMappings([
    {
      what: 'restart_policy',
      input: { deploy: { restart_policy: { condition: 'on-failure', delay: '5s', max_attempts: 3, window: '2m' } } },
      output: { restart: { condition: 'on-failure', delay: '5s', maxAttempts: 3, window: '2m' } },
    },
    { what: 'condition none', input: { deploy: { restart_policy: { condition: 'none' } } }, output: { restart: { condition: 'never' } } },
    { what: 'condition any', input: { deploy: { restart_policy: { condition: 'any' } } }, output: { restart: { condition: 'always' } } },
    { what: 'max_attempts 0 is unlimited', input: { deploy: { restart_policy: { max_attempts: 0 } } }, output: { restart: { maxAttempts: 0 } } },
    { what: 'window 0 is the longest', input: { deploy: { restart_policy: { window: '0s' } } }, output: { restart: { window: '24h' } } },
    { what: 'a delay below the minimum', input: { deploy: { restart_policy: { delay: '0s' } } }, output: { restart: { delay: '10ms' } }, warnings: ['restart_policy.delay: 0s is below peer\'s minimum; using 10ms'] },
    { what: 'restart: "no"', input: { restart: 'no' }, output: { restart: { condition: 'never' } } },
    { what: 'restart: no read as false', input: { restart: false }, output: { restart: { condition: 'never' } } },
    { what: 'restart: always', input: { restart: 'always' }, output: { restart: { condition: 'always' } } },
    { what: 'restart: unless-stopped', input: { restart: 'unless-stopped' }, output: { restart: { condition: 'always' } } },
    { what: 'restart: on-failure', input: { restart: 'on-failure' }, output: { restart: { condition: 'on-failure' } } },
    { what: 'restart: on-failure:5', input: { restart: 'on-failure:5' }, output: { restart: { condition: 'on-failure', maxAttempts: 5 } } },
    {
      what: 'both: restart_policy wins',
      input: { restart: 'always', deploy: { restart_policy: { condition: 'none' } } },
      output: { restart: { condition: 'never' } },
      warnings: ['services.web.restart: ignored: deploy.restart_policy is given'],
    },
    { what: 'x-peer adds maxDelay', input: { deploy: { restart_policy: { delay: '2s' } }, 'x-peer': { restart: { maxDelay: '5m' } } }, output: { restart: { delay: '2s', maxDelay: '5m' } } },
  ])
  checkErrors([
    { what: 'an unknown condition', input: { deploy: { restart_policy: { condition: 'always' } } }, errors: ['restart_policy.condition: expected none, on-failure or any'] },
    { what: 'a delay over a day', input: { deploy: { restart_policy: { delay: '25h' } } }, errors: ['restart_policy.delay: expected a duration from 10ms to 24h'] },
    { what: 'a bad restart string', input: { restart: 'sometimes' }, errors: ['services.web.restart: expected "no", always'] },
    { what: 'attempts on always', input: { restart: 'always:3' }, errors: ['services.web.restart: expected'] },
    { what: 'a duration without a unit', input: { deploy: { restart_policy: { delay: 5 } } }, errors: ['restart_policy.delay: expected a duration such as "10s"'] },
  ])
})

Deploy('update_config as peer\'s rolling update', () => {
  checkMappings([
    {
      what: 'every field',
      input: { deploy: { update_config: { parallelism: 2, delay: '10s', order: 'start-first', failure_action: 'rollback', monitor: '30s', max_failure_ratio: 0 } } },
      output: { update: { parallelism: 2, delay: '10s', order: 'start-first', autoRollback: true, healthDeadline: '30s' } },
    },
    { what: 'parallelism 0 is all at once', input: { deploy: { update_config: { parallelism: 0 } } }, output: { update: { parallelism: 1_000_000 } } },
    { what: 'pause', input: { deploy: { update_config: { failure_action: 'pause' } } }, output: { update: { autoRollback: false } } },
    { what: 'continue', input: { deploy: { update_config: { failure_action: 'continue' } } }, output: { update: { autoRollback: false } }, warnings: ['update_config.failure_action: peer stops an update'] },
    { what: 'monitor 0 keeps the default', input: { deploy: { update_config: { monitor: '0s' } } }, output: { update: {} } },
    { what: 'a short monitor', input: { deploy: { update_config: { monitor: '500ms' } } }, output: { update: { healthDeadline: '1s' } }, warnings: ['update_config.monitor: 500ms is below peer\'s minimum; using 1s'] },
    { what: 'max_failure_ratio', input: { deploy: { update_config: { max_failure_ratio: 0.2 } } }, output: { update: {} }, warnings: ['update_config.max_failure_ratio: ignored'] },
    { what: 'x-peer healthDeadline', input: { deploy: { update_config: { parallelism: 2 } }, 'x-peer': { update: { healthDeadline: '5m' } } }, output: { update: { parallelism: 2, healthDeadline: '5m' } } },
  ])
  checkErrors([
    { what: 'an unknown order', input: { deploy: { update_config: { order: 'random' } } }, errors: ['update_config.order: expected stop-first or start-first'] },
    { what: 'an unknown failure action', input: { deploy: { update_config: { failure_action: 'retry' } } }, errors: ['update_config.failure_action: expected rollback, pause or continue'] },
  ])
})

Deploy('deploy.labels merge into labels, deploy winning a conflict', () => {
  checkMappings([
    { what: 'deploy labels', input: { deploy: { labels: { tier: 'web' } } }, output: { labels: { tier: 'web' } } },
    { what: 'both', input: { labels: ['a=1', 'b=2'], deploy: { labels: ['b=2', 'c=3'] } }, output: { labels: { a: '1', b: '2', c: '3' } } },
    {
      what: 'a conflict',
      input: { labels: { tier: 'frontend' }, deploy: { labels: { tier: 'web' } } },
      output: { labels: { tier: 'web' } },
      warnings: ['services.web.deploy.labels.tier: also in labels with another value ("frontend")'],
    },
  ])
})

Deploy.run()
