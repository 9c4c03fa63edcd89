// The Docker driver against the local engine: how long a container takes from start() to running, how
// long a stop takes, and how long a new driver (an agent after kill -9) takes to adopt what runs.
// Prints one JSON line per measurement. Needs dockerd and `peer-test:latest`
// (scripts/build-test-image.sh).
//
//   npm run bench -- docker [containers]      (default 20)

import Docker from 'dockerode'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { replicaSlot, specHash, validateServices, type ServiceSpec, type TaskView } from '../core/index.js'
import { percentile } from '../sim/metrics.js'
import { DockerDriver, LABEL } from '../node/runtime/docker-driver.js'

const count = Number(process.argv[2] ?? 20)
const docker = new Docker()
const engine = await DockerDriver.engineAnswers(docker)
if (!engine.ok) {
  console.error(`no Docker engine: ${engine.error}`)
  process.exit(1)
}

const result = validateServices({ services: { bench: { image: 'peer-test:latest', command: ['sleep', '3600'], replicas: count, resources: { cpu: '100m', memory: '32Mi' } } } })
if (!result.ok) throw new Error(JSON.stringify(result.errors))
const spec: ServiceSpec = result.services[0]!
const hash = specHash(spec)
const task = (index: number): TaskView => ({
  slot: replicaSlot(spec.name, index), service: spec.name, peer: 'bench' as TaskView['peer'], specHash: hash, state: 'starting', sinceMs: 0,
  resources: spec.resources, ports: [],
} as unknown as TaskView)

const dataDir = await mkdtemp(join(tmpdir(), 'peer-bench-docker-'))
const owner = `bench-${process.pid}`
const open = (): DockerDriver => new DockerDriver({ now: Date.now }, { docker, owner, cluster: 'bench', dataDir })
const driver = open()
try {
  const starts: number[] = []
  for (let i = 0; i < count; i++) {
    const began = performance.now()
    const started = await driver.start(task(i), spec)
    if (!started.ok) throw new Error(started.detail)
    starts.push(performance.now() - began)
  }
  line('docker start → running', starts, { engine: engine.version })

  const began = performance.now()
  const adopter = open() // the first driver is never closed, as after kill -9 of its agent
  const adopted = await adopter.list()
  const adoptMs = performance.now() - began
  console.log(JSON.stringify({ bench: 'docker adoption after restart', containers: adopted.length, ms: round(adoptMs) }))

  const stops: number[] = []
  for (let i = 0; i < count; i++) {
    const t = performance.now()
    await adopter.stop(replicaSlot(spec.name, i), 2000)
    stops.push(performance.now() - t)
  }
  line('docker stop (SIGTERM, removed)', stops, {})
  await adopter.close()
} finally {
  await driver.close()
  const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL.owner}=${owner}`] } })
  await Promise.all(left.map((each) => docker.getContainer(each.Id).remove({ force: true }).catch(() => {})))
  await rm(dataDir, { recursive: true, force: true })
}

function line(bench: string, samples: number[], extra: Record<string, unknown>): void {
  console.log(JSON.stringify({ bench, containers: samples.length, p50Ms: round(percentile(samples, 50)), p99Ms: round(percentile(samples, 99)), maxMs: round(Math.max(...samples)), ...extra }))
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10
}
