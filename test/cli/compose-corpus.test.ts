// Real Compose and stack files (test/fixtures/compose, see SOURCES.md) read as `peer apply -f` reads
// them. The expectations are written from the files and EXPECTED.md: per service the fields that
// matter, the exact warnings, the secrets to create; for the files peer refuses, the exact errors
// and, where it is cheap, that the change a user would make (a variable set, an override file adding
// image:, a service renamed) makes them translate. Every run sees a fixed environment — HOME and the
// variables a test sets — never this machine's.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { readFileSync } from 'node:fs'
import { assertProblems, assertServices, fixture, HOME, load, secretLines, type Problem } from './corpus-expectations.js'
import { suiteFolder } from './run-cli.js'

const Corpus = suite('the Compose corpus')
const { write } = suiteFolder(Corpus, 'peer-compose-corpus-')

const NETWORK = 'ignored: peer has no overlay networks yet'
const DEPENDS = 'ignored: peer starts services independently'
const ROLE = 'ignored constraint: peers have no manager or worker role'
const RESOURCES = 'peer reserves and limits by one figure; using the limits for'
const BUILD_IGNORED = 'ignored: peer does not build images; it runs'
const BUILD_REFUSED = 'peer does not build images; build and load it (`peer image load`) and set image:'
const DNS_LABEL = 'a peer service name is a DNS label'

/** Loads files that must translate; their warnings must be exactly `warnings`. */
async function loaded(files: readonly string[], warnings: readonly Problem[], variables: Record<string, string> = {}, options = {}) {
  const result = await load(files, variables, options)
  if (!result.ok) assert.unreachable(`expected a translation, got ${result.errors.map((e) => `\n  ${e.path}: ${e.message}`).join('')}`)
  assert.ok(result.ok)
  assertProblems(result.value.warnings, warnings, 'warnings')
  return result.value
}

/** Loads files that must be refused with exactly `errors`. */
async function refused(files: readonly string[], errors: readonly Problem[], variables: Record<string, string> = {}, options = {}): Promise<void> {
  const result = await load(files, variables, options)
  if (result.ok) assert.unreachable(`expected errors, got ${result.value.services.map((s) => s.name).join(', ')}`)
  else assertProblems(result.errors, errors, 'errors')
}

/** A copy of a fixture with its service names changed as `renames` says, as a user would fix it. */
function renamed(file: string, renames: Readonly<Record<string, string>>, name: string): string {
  let text = readFileSync(fixture(file), 'utf8')
  for (const [from, to] of Object.entries(renames)) text = text.replaceAll(new RegExp(`^(\\s+)${from}:`, 'gm'), `$1${to}:`)
  return write(name, text)
}

const F = (path: string): string => fixture(path)

Corpus('example-voting-app/docker-stack.yml: a Swarm stack with update and restart policies', async () => {
  const { services, secrets } = await loaded(['example-voting-app/docker-stack.yml'], [
    ['networks.frontend', NETWORK], ['networks.backend', NETWORK],
    ['services.db.deploy.placement.constraints[0]', ROLE],
    ['services.vote.depends_on', DEPENDS],
    ['services.result.depends_on', DEPENDS],
    ['services.worker.depends_on', DEPENDS], ['services.worker.deploy.placement.constraints[0]', ROLE],
    ['services.visualizer.deploy.placement.constraints[0]', ROLE],
  ])
  assertServices(services, {
    redis: { image: 'redis:alpine', update: '2 10s stop-first pause', restart: 'on-failure 1s 5 2m' },
    db: { image: 'postgres:9.4', mounts: ['volume db-data:/var/lib/postgresql/data'], env: { POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'postgres' }, envCount: 2 },
    vote: { image: 'dockersamples/examplevotingapp_vote:before', replicas: 2, ports: ['mesh 5000:80/tcp'], update: '2 0s stop-first pause', restart: 'on-failure 1s 5 2m' },
    result: { image: 'dockersamples/examplevotingapp_result:before', ports: ['mesh 5001:80/tcp'], update: '2 10s stop-first pause', restart: 'on-failure 1s 5 2m' },
    worker: { image: 'dockersamples/examplevotingapp_worker', restart: 'on-failure 10s 3 2m', labels: { APP: 'VOTING' }, labelCount: 1 },
    visualizer: { image: 'dockersamples/visualizer:stable', ports: ['mesh 8080:8080/tcp'], mounts: ['bind /var/run/docker.sock:/var/run/docker.sock'], stopGrace: '90s' },
  })
  assert.equal(secrets, [])
})

Corpus('example-voting-app/docker-compose.yml: build-only services are refused; with images added they translate', async () => {
  const file = 'example-voting-app/docker-compose.yml'
  await refused([file], [
    ['services.vote.build', BUILD_REFUSED], ['services.result.build', BUILD_REFUSED], ['services.worker.build', BUILD_REFUSED],
  ])
  const images = write('voting-images.yml', 'services: { vote: { image: "voting/vote:dev" }, result: { image: "voting/result:dev" }, worker: { image: "voting/worker:dev" } }\n')
  const { services } = await loaded([file, images], [
    ['services.vote.build', BUILD_IGNORED], ['services.vote.depends_on', DEPENDS],
    ['services.result.build', BUILD_IGNORED], ['services.result.depends_on', DEPENDS],
    ['services.result.ports[1]', 'ignored host IP 127.0.0.1'],
    ['services.worker.build', BUILD_IGNORED], ['services.worker.depends_on', DEPENDS],
    ['networks.front-tier', NETWORK], ['networks.back-tier', NETWORK],
  ])
  const checkScript = (script: string, interval: string): readonly [string[], string] => [['/bin/sh', '-c', script], `${interval} 30s 3 0s`]
  assertServices(services, {
    vote: {
      image: 'voting/vote:dev', ports: ['mesh 8080:80/tcp'], mounts: [`bind ${F('example-voting-app/vote')}:/usr/local/app`],
      healthcheck: [['curl', '-f', 'http://localhost'], '15s 5s 3 10s'],
    },
    result: {
      image: 'voting/result:dev', ports: ['mesh 8081:80/tcp', 'mesh 9229:9229/tcp'], mounts: [`bind ${F('example-voting-app/result')}:/usr/local/app`],
      entrypoint: ['nodemon', '--inspect=0.0.0.0', 'server.js'],
    },
    worker: { image: 'voting/worker:dev' },
    redis: { image: 'redis:alpine', mounts: [`bind ${F('example-voting-app/healthchecks')}:/healthchecks`], healthcheck: checkScript('/healthchecks/redis.sh', '5s') },
    db: {
      image: 'postgres:15-alpine', env: { POSTGRES_USER: 'postgres', POSTGRES_PASSWORD: 'postgres' }, envCount: 2,
      mounts: [`bind ${F('example-voting-app/healthchecks')}:/healthchecks`, 'volume db-data:/var/lib/postgresql/data'],
      healthcheck: checkScript('/healthchecks/postgres.sh', '5s'),
    },
  })
})

Corpus('swarmprom/docker-compose.yml: global agents, memory limits over reservations, configs as files', async () => {
  const differ = (service: string): Problem => [`services.${service}.deploy.resources`, `${RESOURCES} memory`]
  const { services, secrets } = await loaded(['swarmprom/docker-compose.yml'], [
    ['networks.net', NETWORK],
    differ('dockerd-exporter'), differ('cadvisor'), differ('grafana'), differ('alertmanager'), differ('node-exporter'), differ('prometheus'), differ('caddy'),
    ['services.grafana.deploy.placement.constraints[0]', ROLE], ['services.alertmanager.deploy.placement.constraints[0]', ROLE],
    ['services.prometheus.deploy.placement.constraints[0]', ROLE], ['services.caddy.deploy.placement.constraints[0]', ROLE],
    ['services.node-exporter.environment[0]', 'peer fills in no Swarm templates such as {{.Node.ID}}'],
  ])
  const caddyfile = 'caddy_config -> /etc/caddy/Caddyfile'
  assertServices(services, {
    'dockerd-exporter': { image: 'stefanprodan/caddy', mode: 'global', memoryMiB: 128, secrets: ['dockerd_config -> /etc/caddy/Caddyfile'], env: { DOCKER_GWBRIDGE_IP: '172.18.0.1' }, envCount: 1 },
    cadvisor: {
      image: 'google/cadvisor', mode: 'global', memoryMiB: 128, command: ['-logtostderr', '-docker_only'],
      mounts: ['bind /:/rootfs:ro', 'bind /sys:/sys:ro', 'bind /var/lib/docker:/var/lib/docker:ro', 'bind /var/run:/var/run', 'bind /var/run/docker.sock:/var/run/docker.sock:ro'],
    },
    grafana: {
      image: 'stefanprodan/swarmprom-grafana:5.3.4', memoryMiB: 128, mounts: ['volume grafana:/var/lib/grafana'],
      env: { GF_SECURITY_ADMIN_USER: 'admin', GF_SECURITY_ADMIN_PASSWORD: 'admin', GF_USERS_ALLOW_SIGN_UP: 'false' }, envCount: 3,
    },
    alertmanager: {
      image: 'stefanprodan/swarmprom-alertmanager:v0.14.0', memoryMiB: 128, mounts: ['volume alertmanager:/alertmanager'],
      command: ['--config.file=/etc/alertmanager/alertmanager.yml', '--storage.path=/alertmanager'],
      env: { SLACK_URL: 'https://hooks.slack.com/services/TOKEN', SLACK_CHANNEL: 'general', SLACK_USER: 'alertmanager' }, envCount: 3,
    },
    unsee: { image: 'cloudflare/unsee:v0.8.0', env: { ALERTMANAGER_URIS: 'default:http://alertmanager:9093' }, envCount: 1 },
    'node-exporter': {
      image: 'stefanprodan/swarmprom-node-exporter:v0.16.0', mode: 'global', memoryMiB: 128,
      mounts: ['bind /etc/hostname:/etc/nodename', 'bind /proc:/host/proc:ro', 'bind /sys:/host/sys:ro', 'bind /:/rootfs:ro'],
      command: [
        '--path.sysfs=/host/sys', '--path.procfs=/host/proc', '--collector.textfile.directory=/etc/node-exporter/',
        '--collector.filesystem.ignored-mount-points=^/(sys|proc|dev|host|etc)($|/)', '--no-collector.ipvs',
      ],
      env: { NODE_ID: '{{.Node.ID}}' }, envCount: 1,
    },
    prometheus: {
      image: 'stefanprodan/swarmprom-prometheus:v2.5.0', memoryMiB: 2048, mounts: ['volume prometheus:/prometheus'],
      command: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus', '--storage.tsdb.retention=24h'],
      secrets: ['node_rules -> /etc/prometheus/swarm_node.rules.yml', 'task_rules -> /etc/prometheus/swarm_task.rules.yml'],
    },
    caddy: {
      image: 'stefanprodan/caddy', memoryMiB: 128, ports: ['mesh 3000:3000/tcp', 'mesh 9090:9090/tcp', 'mesh 9093:9093/tcp', 'mesh 9094:9094/tcp'], secrets: [caddyfile],
      healthcheck: [['curl', '-f', 'http://localhost:3000'], '5s 1s 5 0s'], env: { ADMIN_USER: 'admin', ADMIN_PASSWORD: 'admin' }, envCount: 2,
    },
  })
  assert.equal(secretLines(secrets), [
    'caddy_config config swarmprom/caddy/Caddyfile', 'dockerd_config config swarmprom/dockerd-exporter/Caddyfile',
    'node_rules config swarmprom/prometheus/rules/swarm_node.rules.yml', 'task_rules config swarmprom/prometheus/rules/swarm_task.rules.yml',
  ])
})

Corpus('atsea-sample-shop-app/docker-stack.yml: names with "_" are refused; renamed, external secrets and a renamed target', async () => {
  const file = 'atsea-sample-shop-app/docker-stack.yml'
  await refused([file], [['services.reverse_proxy', 'e.g. to "reverse-proxy"'], ['services.payment_gateway', 'e.g. to "payment-gateway"']])
  const fixed = renamed(file, { reverse_proxy: 'reverse-proxy', payment_gateway: 'payment-gateway' }, 'atsea-stack.yml')
  const result = await loaded([fixed], [
    ['networks.front-tier', NETWORK], ['networks.back-tier', NETWORK], ['networks.payment', NETWORK],
    ['services.database.deploy.placement.constraints[0]', ROLE], ['services.appserver.deploy.placement.constraints[0]', ROLE],
    ['services.visualizer.deploy.placement.constraints[0]', ROLE], ['services.payment-gateway.deploy.placement.constraints[0]', ROLE],
  ])
  assertServices(result.services, {
    'reverse-proxy': { image: 'dockersamples/atseasampleshopapp_reverse_proxy', ports: ['mesh 80:80/tcp', 'mesh 443:443/tcp'], secrets: ['revprox_cert', 'revprox_key'] },
    database: {
      image: 'dockersamples/atsea_db', secrets: ['postgres_password'],
      env: { POSTGRES_USER: 'gordonuser', POSTGRES_DB_PASSWORD_FILE: '/run/secrets/postgres_password', POSTGRES_DB: 'atsea' }, envCount: 3,
    },
    appserver: { image: 'dockersamples/atsea_app', replicas: 2, secrets: ['postgres_password'], update: '2 0s stop-first rollback', restart: 'on-failure 5s 3 2m' },
    visualizer: {
      image: 'dockersamples/visualizer:stable', ports: ['mesh 8001:8080/tcp'], mounts: ['bind /var/run/docker.sock:/var/run/docker.sock'], stopGrace: '90s',
      update: '1 0s stop-first rollback',
    },
    'payment-gateway': {
      image: 'dockersamples/atseasampleshopapp_payment_gateway', constraints: ['pcidss == yes'], secrets: ['staging_token -> payment_token'],
      update: '1 0s stop-first rollback',
    },
  })
  assert.equal(result.secrets.map((s) => `${s.name} ${s.kind} ${s.external}`), [
    'postgres_password secret true', 'staging_token secret true', 'revprox_key secret true', 'revprox_cert secret true',
  ])
})

Corpus('atsea-sample-shop-app/docker-compose.yml: names with "_" and build-only services are refused', async () => {
  await refused(['atsea-sample-shop-app/docker-compose.yml'], [
    ['services.reverse_proxy', DNS_LABEL], ['services.reverse_proxy.build', BUILD_REFUSED],
    ['services.payment_gateway', DNS_LABEL], ['services.payment_gateway.build', BUILD_REFUSED],
  ])
})

Corpus('dockerswarm-rocks/swarmpit.yml: ${DOMAIN?…} unset is refused; set, cpus and memory with dotted label constraints', async () => {
  const file = 'dockerswarm-rocks/swarmpit.yml'
  await refused([file], [['services.app.deploy.labels[3]', 'Variable not set'], ['services.app.deploy.labels[6]', 'Variable not set']])
  const { services } = await loaded([file], [
    ['networks.net', NETWORK], ['networks.traefik-public', NETWORK],
    ['services.app.deploy.resources', `${RESOURCES} cpus and memory`], ['services.app.deploy.placement.constraints[0]', ROLE],
    ['services.db.deploy.resources', `${RESOURCES} cpus and memory`], ['services.influxdb.deploy.resources', `${RESOURCES} cpus and memory`],
    ['services.agent.deploy.resources', `${RESOURCES} cpus and memory`],
  ], { DOMAIN: 'swarmpit.example.com' })
  const socket = 'bind /var/run/docker.sock:/var/run/docker.sock:ro'
  assertServices(services, {
    app: {
      image: 'swarmpit/swarmpit:latest', cpuMilli: 500, memoryMiB: 1024, mounts: [socket],
      env: { SWARMPIT_DB: 'http://db:5984', SWARMPIT_INFLUXDB: 'http://influxdb:8086' }, envCount: 2,
      labels: { 'traefik.http.routers.swarmpit-https.rule': 'Host(`swarmpit.example.com`)', 'traefik.enable': 'true' }, labelCount: 11,
    },
    db: { image: 'couchdb:2.3.1', cpuMilli: 300, memoryMiB: 512, constraints: ['swarmpit.db-data == true'], mounts: ['volume db-data:/opt/couchdb/data'] },
    influxdb: { image: 'influxdb:1.7', cpuMilli: 600, memoryMiB: 512, constraints: ['swarmpit.influx-data == true'], mounts: ['volume influx-data:/var/lib/influxdb'] },
    // 0.10 cpus and 64M are 100m and 64 MiB, peer's defaults.
    agent: { image: 'swarmpit/agent:latest', mode: 'global', cpuMilli: 100, memoryMiB: 64, mounts: [socket], env: { DOCKER_API_VERSION: '1.35' }, envCount: 1 },
  })
})

Corpus('dockerswarm-rocks/traefik-host.yml: ${VAR?…} in labels and command; host-mode ports; a substituted $ is not read again', async () => {
  const file = 'dockerswarm-rocks/traefik-host.yml'
  await refused([file], [
    ['services.traefik.deploy.labels[3]', 'USERNAME'], ['services.traefik.deploy.labels[6]', 'DOMAIN'], ['services.traefik.deploy.labels[9]', 'DOMAIN'],
    ['services.traefik.command[6]', 'EMAIL'],
  ])
  const variables = { USERNAME: 'admin', HASHED_PASSWORD: '$apr1$s4lt$h4sh', DOMAIN: 'traefik.example.com', EMAIL: 'admin@example.com' }
  const { services } = await loaded([file], [['networks.traefik-public', NETWORK]], variables)
  assertServices(services, {
    traefik: {
      image: 'traefik:v2.2', ports: ['host 80:80/tcp', 'host 443:443/tcp'], constraints: ['traefik-public.traefik-public-certificates == true'],
      mounts: ['volume traefik-public-certificates:/certificates', 'bind /var/run/docker.sock:/var/run/docker.sock:ro'],
      command: {
        head: ['--providers.docker', '--providers.docker.constraints=Label(`traefik.constraint-label`, `traefik-public`)', '--providers.docker.exposedbydefault=false',
          '--providers.docker.swarmmode', '--entrypoints.http.address=:80', '--entrypoints.https.address=:443', '--certificatesresolvers.le.acme.email=admin@example.com'],
        length: 12,
      },
      labels: {
        'traefik.http.middlewares.admin-auth.basicauth.users': 'admin:$apr1$s4lt$h4sh',
        'traefik.http.routers.traefik-public-https.rule': 'Host(`traefik.example.com`)',
      },
      labelCount: 16,
    },
  })
})

Corpus('dockerswarm-rocks/portainer.yml: a global agent on node.platform.os, a server with a command string', async () => {
  const file = 'dockerswarm-rocks/portainer.yml'
  await refused([file], [['services.portainer.deploy.labels[3]', 'Variable not set'], ['services.portainer.deploy.labels[6]', 'Variable not set']])
  const { services } = await loaded([file], [
    ['networks.agent-network', NETWORK], ['networks.traefik-public', NETWORK], ['services.portainer.deploy.placement.constraints[0]', ROLE],
  ], { DOMAIN: 'portainer.example.com' })
  assertServices(services, {
    agent: {
      image: 'portainer/agent', mode: 'global', constraints: ['peer.os == linux'], env: { AGENT_CLUSTER_ADDR: 'tasks.agent' }, envCount: 1,
      mounts: ['bind /var/lib/docker/volumes:/var/lib/docker/volumes', 'bind /var/run/docker.sock:/var/run/docker.sock'],
    },
    portainer: {
      image: 'portainer/portainer-ce', command: ['-H', 'tcp://tasks.agent:9001', '--tlsskipverify'], constraints: ['portainer.portainer-data == true'],
      mounts: ['volume portainer-data:/data'], labels: { 'traefik.http.routers.portainer-http.rule': 'Host(`portainer.example.com`)' }, labelCount: 11,
    },
  })
})

Corpus('awesome-compose-nginx-flask-mysql/compose.yaml: a file secret, $$ in a CMD-SHELL check; build-only services need an image', async () => {
  const file = 'awesome-compose-nginx-flask-mysql/compose.yaml'
  await refused([file], [['services.backend.build', BUILD_REFUSED], ['services.proxy.build', BUILD_REFUSED]])
  const images = write('flask-images.yml', 'services:\n  backend: { image: "example/backend:1" }\n  proxy: { image: "example/proxy:1" }\n')
  const { services, secrets } = await loaded([F(file), images], [
    ['services.backend.build', BUILD_IGNORED], ['services.backend.depends_on', DEPENDS],
    ['services.proxy.build', BUILD_IGNORED], ['services.proxy.depends_on', DEPENDS],
    ['networks.backnet', NETWORK], ['networks.frontnet', NETWORK],
  ])
  assertServices(services, {
    db: {
      image: 'mariadb:10-focal', command: ['--default-authentication-plugin=mysql_native_password'], secrets: ['db-password'],
      ports: ['name 3306/tcp', 'name 33060/tcp'], mounts: ['volume db-data:/var/lib/mysql'],
      healthcheck: [['/bin/sh', '-c', 'mysqladmin ping -h 127.0.0.1 --password="$(cat /run/secrets/db-password)" --silent'], '3s 30s 5 30s'],
      env: { MYSQL_DATABASE: 'example', MYSQL_ROOT_PASSWORD_FILE: '/run/secrets/db-password' }, envCount: 2,
    },
    backend: { image: 'example/backend:1', ports: ['mesh 8000:8000/tcp'], secrets: ['db-password'] },
    proxy: { image: 'example/proxy:1', ports: ['mesh 80:80/tcp'] },
  })
  assert.equal(secretLines(secrets), ['db-password secret awesome-compose-nginx-flask-mysql/db/password.txt'])
})

Corpus('awesome-compose-pihole-cloudflared-doh/compose.yaml: .env values, one port on tcp and udp, cap_add', async () => {
  const { services } = await loaded(['awesome-compose-pihole-cloudflared-doh/compose.yaml'], [
    ['services.cloudflared.container_name', 'ignored'],
    ['services.pihole.container_name', 'ignored'], ['services.pihole.depends_on', DEPENDS],
    ['networks.dns-net', NETWORK],
  ])
  assertServices(services, {
    cloudflared: { image: 'visibilityspots/cloudflared', ports: ['mesh 5054:5054/tcp', 'mesh 5054:5054/udp'], env: { TZ: 'Etc/UTC', PORT: '5054', ADDRESS: '0.0.0.0' }, envCount: 3 },
    pihole: {
      image: 'pihole/pihole:latest', ports: ['mesh 53:53/tcp', 'mesh 53:53/udp', 'mesh 67:67/udp', 'mesh 8080:80/tcp', 'mesh 8443:443/tcp'], capAdd: ['NET_ADMIN'],
      mounts: ['bind /etc/dnsmasq.d:/etc/dnsmasq.d', 'bind /etc/pihole:/etc/pihole'],
      env: { TZ: 'Etc/UTC', PIHOLE_DNS_: '172.20.0.2#5054;1.1.1.1', WEBPASSWORD: 'changeit', REV_SERVER_CIDR: '192.168.178.0/24', ServerIP: '192.168.178.X', ServerIPv6: '' },
      envCount: 9,
    },
  })
})

Corpus('netbox-docker/docker-compose.yml: merge keys, env files, string healthchecks, $$', async () => {
  const z = (service: string): Problem => [`services.${service}.volumes[0]`, 'ignored options z']
  const { services } = await loaded(['netbox-docker/docker-compose.yml'], [
    ['services.netbox.depends_on', DEPENDS], ['services.netbox-worker.depends_on', DEPENDS], ['services.netbox-housekeeping.depends_on', DEPENDS],
    z('netbox'), z('netbox-worker'), z('netbox-housekeeping'),
  ])
  const netbox = {
    image: 'docker.io/netboxcommunity/netbox:v4.1-3.0.2', user: 'unit:root',
    mounts: [
      `bind ${F('netbox-docker/configuration')}:/etc/netbox/config:ro`, 'volume netbox-media-files:/opt/netbox/netbox/media',
      'volume netbox-reports-files:/opt/netbox/netbox/reports', 'volume netbox-scripts-files:/opt/netbox/netbox/scripts',
    ],
    env: { DB_HOST: 'postgres', SECRET_KEY: 'r(m)9nLGnz$(_q3N4z1k(EFsMCjjjzx08x9VhNVcfd%6RF#r!6DE@+V5Zk2X' },
    envCount: 33,
  }
  const shell = (line: string): string[] => ['/bin/sh', '-c', line]
  const redisCheck = [shell(`[ $(valkey-cli --pass "\${REDIS_PASSWORD}" ping) = 'PONG' ]`), '1s 3s 5 5s'] as const
  assertServices(services, {
    netbox: { ...netbox, healthcheck: [shell('curl -f http://localhost:8080/login/ || exit 1'), '15s 3s 3 90s'] },
    'netbox-worker': {
      ...netbox, command: ['/opt/netbox/venv/bin/python', '/opt/netbox/netbox/manage.py', 'rqworker'],
      healthcheck: [shell('ps -aux | grep -v grep | grep -q rqworker || exit 1'), '15s 3s 3 20s'],
    },
    'netbox-housekeeping': {
      ...netbox, command: ['/opt/netbox/housekeeping.sh'],
      healthcheck: [shell('ps -aux | grep -v grep | grep -q housekeeping || exit 1'), '15s 3s 3 20s'],
    },
    postgres: {
      image: 'docker.io/postgres:16-alpine', mounts: ['volume netbox-postgres-data:/var/lib/postgresql/data'],
      healthcheck: [shell('pg_isready -q -t 2 -d $POSTGRES_DB -U $POSTGRES_USER'), '10s 30s 5 20s'],
      env: { POSTGRES_DB: 'netbox', POSTGRES_PASSWORD: 'J5brHrAXFLQSif0K', POSTGRES_USER: 'netbox' }, envCount: 3,
    },
    redis: {
      image: 'docker.io/valkey/valkey:8.0-alpine', command: ['sh', '-c', 'valkey-server --appendonly yes --requirepass $REDIS_PASSWORD'],
      healthcheck: redisCheck, mounts: ['volume netbox-redis-data:/data'], env: { REDIS_PASSWORD: 'H733Kdjndks81' }, envCount: 1,
    },
    'redis-cache': {
      image: 'docker.io/valkey/valkey:8.0-alpine', command: ['sh', '-c', 'valkey-server --requirepass $REDIS_PASSWORD'],
      healthcheck: redisCheck, mounts: ['volume netbox-redis-cache-data:/data'], env: { REDIS_PASSWORD: 't4Ph722qJ5QHeQ1qfu36' }, envCount: 1,
    },
  })
})

Corpus('airflow/docker-compose.yaml: an x- anchor merged into services, profiles, a script with $$', async () => {
  const file = 'airflow/docker-compose.yaml'
  const common = ['webserver', 'scheduler', 'worker', 'triggerer', 'init'].map((name): Problem => [`services.airflow-${name}.depends_on`, DEPENDS])
  // As airflow's guide has users do: AIRFLOW_UID in the environment, and a released image.
  const variables = { AIRFLOW_UID: '50000', AIRFLOW_IMAGE_NAME: 'apache/airflow:2.10.5' }
  const { services } = await loaded([file], common, variables)
  const image = 'apache/airflow:2.10.5'
  const binds = ['dags', 'logs', 'plugins'].map((dir) => `bind ${F(`airflow/${dir}`)}:/opt/airflow/${dir}`)
  const airflow = { image, user: '50000:0', mounts: binds, env: { AIRFLOW__CORE__EXECUTOR: 'CeleryExecutor', AIRFLOW__CORE__FERNET_KEY: '', _PIP_ADDITIONAL_REQUIREMENTS: '' }, envCount: 10 }
  const shell = (line: string): string[] => ['/bin/sh', '-c', line]
  const timing = '10s 10s 5 0s'
  assertServices(services, {
    postgres: {
      image: 'postgres:13', mounts: ['volume postgres-db-volume:/var/lib/postgresql/data'], healthcheck: [['pg_isready', '-U', 'airflow'], '5s 30s 5 0s'],
      env: { POSTGRES_USER: 'airflow', POSTGRES_PASSWORD: 'airflow', POSTGRES_DB: 'airflow' }, envCount: 3,
    },
    redis: { image: 'redis:latest', ports: ['name 6379/tcp'], healthcheck: [['redis-cli', 'ping'], '5s 30s 50 0s'] },
    'airflow-webserver': { ...airflow, command: ['webserver'], ports: ['mesh 8080:8080/tcp'], healthcheck: [['curl', '--fail', 'http://localhost:8080/health'], timing] },
    'airflow-scheduler': { ...airflow, command: ['scheduler'], healthcheck: [shell('airflow jobs check --job-type SchedulerJob --hostname "${HOSTNAME}"'), timing] },
    'airflow-worker': {
      ...airflow, command: ['celery', 'worker'], env: { ...airflow.env, DUMB_INIT_SETSID: '0' }, envCount: 11,
      healthcheck: [shell('celery --app airflow.executors.celery_executor.app inspect ping -d "celery@${HOSTNAME}"'), timing],
    },
    'airflow-triggerer': { ...airflow, command: ['triggerer'], healthcheck: [shell('airflow jobs check --job-type TriggererJob --hostname "${HOSTNAME}"'), timing] },
    'airflow-init': {
      image, user: '0:0', entrypoint: ['/bin/bash'], command: { head: ['-c'], length: 2 }, mounts: [`bind ${F('airflow')}:/sources`],
      env: { _AIRFLOW_DB_UPGRADE: 'true', _AIRFLOW_WWW_USER_USERNAME: 'airflow', _AIRFLOW_WWW_USER_PASSWORD: 'airflow', _PIP_ADDITIONAL_REQUIREMENTS: '' }, envCount: 14,
    },
  })
  const script = services.find((s) => s.name === 'airflow-init')!.command[1]!
  assert.ok(script.includes('printf "%04d%04d%04d%04d" ${1//./ }'), '$$ is a literal $')
  assert.ok(script.includes('chown -R "50000:0" /sources/{logs,dags,plugins}'), '${AIRFLOW_UID} is interpolated')
  // Without AIRFLOW_UID the script's ${AIRFLOW_UID} is empty, with one warning for the file.
  const unset = await loaded([file], [
    ...common, ['services.airflow-init.command[1]', '${AIRFLOW_UID} is not set'],
  ], { AIRFLOW_IMAGE_NAME: image })
  assert.is(unset.services.find((s) => s.name === 'airflow-webserver')!.user, '50000:0')
})

Corpus('authentik/docker-compose.yml: ${VAR:?…} from .env; without it, refused with the file\'s messages', async () => {
  const file = 'authentik/docker-compose.yml'
  const { services } = await loaded([file], [
    ['services.server.depends_on', DEPENDS], ['services.worker.ulimits', 'ignored'], ['services.worker.depends_on', DEPENDS],
  ])
  const secretsOfEnv = { PG_PASS: 'placeholder-postgres-password', AUTHENTIK_SECRET_KEY: 'placeholder-secret-key-not-for-use' }
  const authentikEnv = { ...secretsOfEnv, AUTHENTIK_POSTGRESQL__PASSWORD: 'placeholder-postgres-password', AUTHENTIK_POSTGRESQL__USER: 'authentik', AUTHENTIK_REDIS__HOST: 'redis' }
  const image = 'ghcr.io/goauthentik/server:2025.2.4'
  const bind = (dir: string, target = `/${dir}`): string => `bind ${F(`authentik/${dir}`)}:${target}`
  assertServices(services, {
    postgresql: {
      image: 'docker.io/library/postgres:16-alpine', mounts: ['volume database:/var/lib/postgresql/data'],
      healthcheck: [['/bin/sh', '-c', 'pg_isready -d ${POSTGRES_DB} -U ${POSTGRES_USER}'], '30s 5s 5 20s'],
      env: { ...secretsOfEnv, POSTGRES_PASSWORD: 'placeholder-postgres-password', POSTGRES_USER: 'authentik', POSTGRES_DB: 'authentik' }, envCount: 5,
    },
    redis: {
      image: 'docker.io/library/redis:alpine', command: ['--save', '60', '1', '--loglevel', 'warning'], mounts: ['volume redis:/data'],
      healthcheck: [['/bin/sh', '-c', 'redis-cli ping | grep PONG'], '30s 3s 5 20s'],
    },
    server: { image, command: ['server'], ports: ['mesh 9000:9000/tcp', 'mesh 9443:9443/tcp'], mounts: [bind('media'), bind('custom-templates', '/templates')], env: authentikEnv, envCount: 7 },
    worker: {
      image, command: ['worker'], user: 'root', env: authentikEnv, envCount: 7,
      mounts: [bind('certs'), bind('media'), bind('custom-templates', '/templates'), 'bind /var/run/docker.sock:/var/run/docker.sock'],
    },
  })
  // With an environment file that sets neither, as upstream ships it (no .env).
  const empty = write('authentik-empty.env', '')
  await refused([file], [
    ['services.postgresql.environment.POSTGRES_PASSWORD', 'database password required'],
    ['services.server.environment.AUTHENTIK_SECRET_KEY', 'secret key required'],
    ['services.worker.environment.AUTHENTIK_SECRET_KEY', 'secret key required'],
  ], {}, { envFile: [empty] })
})

Corpus('docker-elk/docker-compose.yml: build-only services need an image; long-form volumes, dotted env names', async () => {
  const file = 'docker-elk/docker-compose.yml'
  await refused([file], [['services.elasticsearch.build', BUILD_REFUSED], ['services.logstash.build', BUILD_REFUSED], ['services.kibana.build', BUILD_REFUSED]])
  // The images the Dockerfiles start from, at the version the .env beside the first file sets.
  const images = write('elk-images.yml', [
    'services:',
    '  elasticsearch: { image: "docker.elastic.co/elasticsearch/elasticsearch:$ELK_VERSION" }',
    '  logstash: { image: "docker.elastic.co/logstash/logstash:$ELK_VERSION" }',
    '  kibana: { image: "docker.elastic.co/kibana/kibana:${ELK_VERSION}" }',
    '',
  ].join('\n'))
  const { services } = await loaded([F(file), images], [
    ['services.elasticsearch.build', BUILD_IGNORED],
    ['services.logstash.build', BUILD_IGNORED], ['services.logstash.depends_on', DEPENDS],
    ['services.kibana.build', BUILD_IGNORED], ['services.kibana.depends_on', DEPENDS],
    ['networks.elk', NETWORK],
  ])
  const config = (path: string): string => `bind ${F(`docker-elk/${path}`)}:/usr/share/${path}:ro`
  assertServices(services, {
    elasticsearch: {
      image: 'docker.elastic.co/elasticsearch/elasticsearch:7.15.2', ports: ['mesh 9200:9200/tcp', 'mesh 9300:9300/tcp'],
      mounts: [config('elasticsearch/config/elasticsearch.yml'), 'volume elasticsearch:/usr/share/elasticsearch/data'],
      env: { ES_JAVA_OPTS: '-Xmx256m -Xms256m', ELASTIC_PASSWORD: 'changeme', 'discovery.type': 'single-node' }, envCount: 3,
    },
    logstash: {
      image: 'docker.elastic.co/logstash/logstash:7.15.2', ports: ['mesh 5044:5044/tcp', 'mesh 5000:5000/tcp', 'mesh 5000:5000/udp', 'mesh 9600:9600/tcp'],
      mounts: [config('logstash/config/logstash.yml'), config('logstash/pipeline')], env: { LS_JAVA_OPTS: '-Xmx256m -Xms256m' }, envCount: 1,
    },
    kibana: { image: 'docker.elastic.co/kibana/kibana:7.15.2', ports: ['mesh 5601:5601/tcp'], mounts: [config('kibana/config/kibana.yml')] },
  })
})

Corpus('docker-elk/docker-stack.yml: configs become secrets at their targets', async () => {
  const { services, secrets } = await loaded(['docker-elk/docker-stack.yml'], [
    ['networks.elk', NETWORK],
  ])
  assertServices(services, {
    elasticsearch: {
      image: 'docker.elastic.co/elasticsearch/elasticsearch:7.15.2', ports: ['mesh 9200:9200/tcp', 'mesh 9300:9300/tcp'],
      secrets: ['elastic_config -> /usr/share/elasticsearch/config/elasticsearch.yml'],
      env: { 'discovery.type': 'single-node', 'network.publish_host': '_eth0_', ELASTIC_PASSWORD: 'changeme' }, envCount: 4,
    },
    logstash: {
      image: 'docker.elastic.co/logstash/logstash:7.15.2', ports: ['mesh 5044:5044/tcp', 'mesh 5000:5000/tcp', 'mesh 9600:9600/tcp'],
      secrets: ['logstash_config -> /usr/share/logstash/config/logstash.yml', 'logstash_pipeline -> /usr/share/logstash/pipeline/logstash.conf'],
      env: { LS_JAVA_OPTS: '-Xmx256m -Xms256m' }, envCount: 1,
    },
    kibana: { image: 'docker.elastic.co/kibana/kibana:7.15.2', ports: ['mesh 5601:5601/tcp'], secrets: ['kibana_config -> /usr/share/kibana/config/kibana.yml'] },
  })
  assert.equal(secretLines(secrets), [
    'elastic_config config docker-elk/elasticsearch/config/elasticsearch.yml', 'logstash_config config docker-elk/logstash/config/logstash.yml',
    'logstash_pipeline config docker-elk/logstash/pipeline/logstash.conf', 'kibana_config config docker-elk/kibana/config/kibana.yml',
  ])
})

Corpus('docker-jitsi-meet/docker-compose.yml: heavy interpolation from .env, ~ in bind sources, pass-through names, tmpfs', async () => {
  const tmpfsWarnings = (service: string): Problem[] => [
    [`services.${service}.read_only`, 'ignored'], [`services.${service}.tmpfs[0]`, 'ignored options size=16M,mode=1750,exec'],
    [`services.${service}.tmpfs[1]`, 'ignored options size=16M,mode=1777,noexec'],
  ]
  const option = (service: string, i: number, options = 'Z'): Problem => [`services.${service}.volumes[${i}]`, `ignored options ${options}`]
  const { services } = await loaded(['docker-jitsi-meet/docker-compose.yml'], [
    ...tmpfsWarnings('web'), ...tmpfsWarnings('prosody'), ...tmpfsWarnings('jicofo'), ...tmpfsWarnings('jvb'),
    option('web', 0), option('web', 1), option('web', 2, 'z'), option('web', 3), option('prosody', 0), option('prosody', 1), option('prosody', 2),
    option('jicofo', 0), option('jvb', 0),
    ['services.web.depends_on', DEPENDS],
    ['services.jicofo.ports[0]', 'ignored host IP 127.0.0.1'], ['services.jicofo.depends_on', DEPENDS],
    ['services.jvb.ports[1]', 'ignored host IP 127.0.0.1'], ['services.jvb.depends_on', DEPENDS],
    ['networks.meet.jitsi', NETWORK],
  ])
  const config = `${HOME}/.jitsi-meet-cfg`
  const tmpfs = ['tmpfs /run', 'tmpfs /tmp']
  assertServices(services, {
    web: {
      image: 'ghcr.io/jitsi/web:unstable', ports: ['mesh 8000:8000/tcp', 'mesh 8443:8443/tcp'],
      mounts: [
        `bind ${config}/web:/config`, tmpfs[0]!, `bind ${config}/storage/web:/storage`, tmpfs[1]!,
        `bind ${config}/tmp/web-load-test:/usr/share/jitsi-meet/load-test`, `bind ${config}/storage/transcripts:/usr/share/jitsi-meet/transcripts:ro`,
      ],
      env: { TZ: 'UTC' }, envCount: 1, labels: { service: 'jitsi-web' }, labelCount: 1,
    },
    prosody: {
      // expose: reachable by name only, at the ports .env leaves to the file's defaults.
      image: 'ghcr.io/jitsi/prosody:unstable', ports: ['name 5222/tcp', 'name 5269/tcp', 'name 5347/tcp', 'name 5280/tcp'],
      mounts: [`bind ${config}/prosody/config:/config`, `bind ${config}/prosody/prosody-plugins-custom:/prosody-plugins-custom`, ...tmpfs, `bind ${config}/storage/prosody:/var/lib/prosody`],
      env: { TZ: 'UTC', JICOFO_AUTH_PASSWORD: '', JVB_AUTH_PASSWORD: '', JIBRI_XMPP_PASSWORD: '' }, envCount: 7,
      labels: { service: 'jitsi-prosody' }, labelCount: 1,
    },
    jicofo: {
      image: 'ghcr.io/jitsi/jicofo:unstable', ports: ['mesh 8888:8888/tcp'], mounts: [`bind ${config}/jicofo:/config`, ...tmpfs],
      // In list form the quotes are part of the value, as Compose reads it.
      env: { SENTRY_DSN: '"0"', JICOFO_AUTH_PASSWORD: '', TZ: 'UTC' }, envCount: 3, labels: { service: 'jitsi-jicofo' }, labelCount: 1,
    },
    jvb: {
      image: 'ghcr.io/jitsi/jvb:unstable', ports: ['mesh 10000:10000/udp', 'mesh 8080:8080/tcp'], mounts: [`bind ${config}/jvb:/config`, ...tmpfs],
      env: { SENTRY_DSN: '"0"', JVB_AUTH_PASSWORD: '', TZ: 'UTC' }, envCount: 3, labels: { service: 'jitsi-jvb' }, labelCount: 1,
    },
  })
})

Corpus('ragflow: include: is refused; given as two -f files, profiles come from COMPOSE_PROFILES in .env', async () => {
  await refused(['ragflow/docker-compose.yml'], [['include', 'include is not supported: give the included files with -f instead'], ['services.ragflow-cpu.networks.ragflow', 'undefined network "ragflow"']])
  // The user's fix: the included file first (the project directory and .env stay ragflow's), then
  // the main file without its include: line.
  const main = write('ragflow-main.yml', readFileSync(F('ragflow/docker-compose.yml'), 'utf8').replace(/^include:\n {2}- \.\/docker-compose-base\.yml\n/m, ''))
  const { services } = await loaded([F('ragflow/docker-compose-base.yml'), main], [
    ['services.es01.tmpfs[0]', 'ignored options mode=1777,size=512m'], ['services.es01.ulimits', 'ignored'],
    ['services.ragflow-cpu.depends_on', DEPENDS], ['services.ragflow-cpu.ulimits', 'ignored'], ['services.ragflow-cpu.extra_hosts', 'ignored'],
    ['networks.ragflow', NETWORK],
  ])
  const check = (command: string[]): readonly [string[], string] => [command, '10s 10s 120 0s']
  assertServices(services, {
    es01: {
      image: 'elasticsearch:8.11.3', memoryMiB: 7700, ports: ['mesh 1200:9200/tcp'], mounts: ['tmpfs /tmp', 'volume esdata01:/usr/share/elasticsearch/data'],
      healthcheck: check(['/bin/sh', '-c', 'curl http://localhost:9200']),
      env: { 'node.name': 'es01', 'discovery.type': 'single-node', ELASTIC_PASSWORD: 'infini_rag_flow', API_PROXY_SCHEME: 'python', COMPOSE_PROFILES: 'elasticsearch,cpu,metadata-mysql' },
      envCount: 113,
    },
    mysql: {
      image: 'mysql:8.0.40', ports: ['mesh 3306:3306/tcp'], healthcheck: check(['mysqladmin', 'ping', '-uroot', '-pinfini_rag_flow']),
      command: [
        '--max_connections=1000', '--character-set-server=utf8mb4', '--collation-server=utf8mb4_unicode_ci', '--default-authentication-plugin=mysql_native_password',
        '--tls_version=TLSv1.2,TLSv1.3', '--init-file', '/data/application/init.sql', '--binlog_expire_logs_seconds=604800',
      ],
      mounts: [`bind ${F('ragflow/init.sql')}:/data/application/init.sql`, 'volume mysql_data:/var/lib/mysql'],
      env: { MYSQL_ROOT_PASSWORD: 'infini_rag_flow' }, envCount: 105,
    },
    minio: {
      image: 'pgsty/silo:RELEASE.2026-08-06T00-00-00Z', command: ['server', '--console-address', ':9001', '/data'], ports: ['mesh 9000:9000/tcp', 'mesh 9001:9001/tcp'],
      healthcheck: check(['curl', '-f', 'http://localhost:9000/minio/health/live']), mounts: ['volume minio_data:/data'],
      env: { MINIO_ROOT_USER: 'rag_flow', MINIO_ROOT_PASSWORD: 'infini_rag_flow' }, envCount: 106,
    },
    redis: {
      image: 'valkey/valkey:8', ports: ['mesh 6379:6379/tcp'], mounts: ['volume redis_data:/data'],
      command: ['redis-server', '--requirepass', 'infini_rag_flow', '--maxmemory', '128mb', '--maxmemory-policy', 'volatile-lru'],
      healthcheck: check(['redis-cli', '-a', 'infini_rag_flow', 'ping']), envCount: 104,
    },
    'ragflow-cpu': {
      image: 'infiniflow/ragflow:v0.27.0', command: ['--enable-adminserver', '--init-model-provider-tables'],
      ports: ['mesh 80:80/tcp', 'mesh 443:443/tcp', 'mesh 9380:9380/tcp', 'mesh 9381:9381/tcp', 'mesh 9382:9382/tcp', 'mesh 9384:9384/tcp', 'mesh 9383:9383/tcp'],
      mounts: ['ragflow/service_conf.yaml.template:/ragflow/conf/service_conf.yaml.template', 'ragflow/entrypoint.sh:/ragflow/entrypoint.sh', 'ragflow/ragflow-logs:/ragflow/logs'].map((m) => `bind ${F(m)}`),
      env: { API_PROXY_SCHEME: 'python', TEI_MODEL: 'Qwen/Qwen3-Embedding-0.6B' }, envCount: 104,
    },
  })
})

Corpus('docker-pure-ftpd/docker-compose.yml: a name with "_" is refused; renamed, its passive range lies where peers bind task ports; moved, ten mesh ports', async () => {
  const file = 'docker-pure-ftpd/docker-compose.yml'
  await refused([file], [['services.ftpd_server', 'e.g. to "ftpd-server"']])
  // 30000-30009 is published on every peer, inside the ports peers give tasks of ingress ports:
  // refused, one error per port as peer reads the range.
  const inTaskRange = Array.from({ length: 10 }, (_, i): Problem => ['services.ftpd-server', `ports[${i + 1}].host (as peer reads it): ${30000 + i} is in the range peers give tasks`])
  const ftpd = renamed(file, { ftpd_server: 'ftpd-server' }, 'pure-ftpd.yml')
  await refused([ftpd], inTaskRange)
  // The user's fix: pure-ftpd's passive range moved out of it, published as the server announces it.
  const moved = write('pure-ftpd-moved.yml', readFileSync(ftpd, 'utf8')
    .replace('"30000-30009:30000-30009"', '"40000-40009:40000-40009"')
    .replace('PUBLICHOST: "localhost"', 'PUBLICHOST: "localhost"\n      FTP_PASSIVE_PORTS: "40000:40009"'))
  const { services } = await loaded([moved], [['services.ftpd-server.container_name', 'ignored']])
  const range = Array.from({ length: 10 }, (_, i) => `mesh ${40000 + i}:${40000 + i}/tcp`)
  assertServices(services, {
    'ftpd-server': {
      image: 'stilliard/pure-ftpd', ports: ['mesh 21:21/tcp', ...range],
      mounts: ['bind /folder_on_disk/passwd:/etc/pure-ftpd/passwd', 'bind /folder_on_disk/data:/home/username'],
      env: { PUBLICHOST: 'localhost', FTP_PASSIVE_PORTS: '40000:40009', FTP_USER_NAME: 'username', FTP_USER_PASS: 'mypass', FTP_USER_HOME: '/home/username' }, envCount: 5,
    },
  })
})

Corpus.run()
