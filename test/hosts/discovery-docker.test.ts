// Service discovery and the routing mesh on real hosts, with the Docker driver: the two-tier scenario
// (two-tier-scenario.ts) as containers of the test image, each host running its own Docker engine
// inside its namespace (engines.ts), so that containers live on their host's network. web's CGI
// script asks kv by its bare name (`kv`): the container's resolver is its agent's DNS, search domain
// `peer`. The agents' service range is 10.199.0.0/16, not the default loopback one: a container on
// an engine's bridge reaches its host only by a non-loopback address, so the agent puts its DNS
// (10.199.0.1:53, port 53 as root, which is what makes the driver hand it to containers) and the
// service addresses on the host's `lo` as /32s. Run with kernel NAT rules, which also carry the
// containers' connections to service addresses (from the engine's bridge, through PREROUTING), and
// with the userspace proxy.
//
// Needs root (namespaces, iptables, dockerd), the machine's Docker engine for the test image
// (scripts/build-test-image.sh), which is copied into each host's engine: it fails, never skips,
// without them — CI runs as root with dockerd started.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import Docker from 'dockerode'
import { DockerDriver } from '../../node/runtime/docker-driver.js'
import { TEST_IMAGE } from './cluster.js'
import { Engines, sweepStaleEngines } from './engines.js'
import type { Hosts } from './hosts.js'
import { twoTierThroughAPowerCut, type TierDriver } from './two-tier-scenario.js'
import { containerApp } from './two-tier.js'

const SERVICE_CIDR = '10.199.0.0/16'
const LIST_TIMEOUT_MS = 2_000

/** Tasks as containers, each host on its own engine; where they run is asked of the engines. */
function containers(): TierDriver {
  let engines: Engines | undefined
  return {
    name: 'containers',
    hostsInit: {
      docker: true,
      agentArgs: ['--service-cidr', SERVICE_CIDR],
      agentEnvFor: (host) => ({ DOCKER_HOST: engines!.engine(host).dockerHost }),
    },
    dns: '10.199.0.1:53',
    serviceAddress: /^10\.199\./,
    async prepare(hosts: Hosts) {
      // After Hosts.create: the engines' exit handler then runs after the hosts' (engines.ts).
      engines = new Engines()
      await Promise.all(hosts.hosts.map((host) => engines!.start(host, `172.31.${host.index}.1/24`)))
      await engines.loadImage(TEST_IMAGE, hosts.hosts)
    },
    services: (webHost) => containerApp(webHost, TEST_IMAGE),
    async placed(hosts, slot, target) {
      const found = await Promise.all(hosts.hosts.map(async (host) => {
        // A host that lost power has no engine to ask: it runs nothing.
        const listed = await Promise.race([
          engines!.engine(host).docker.listContainers({ filters: { label: [`peer.slot=${slot}`], status: ['running'] } }),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no answer')), LIST_TIMEOUT_MS)),
        ]).catch(() => [])
        return listed.map((container) => ({ host: host.name, port: container.Ports.find((port) => port.PrivatePort === target && port.PublicPort !== undefined)?.PublicPort }))
      }))
      const copies = found.flat()
      return copies.length === 1 && copies[0]!.port !== undefined ? { host: copies[0]!.host, port: copies[0]!.port } : undefined
    },
    alsoOnPowerCut: (host) => engines!.killContainers(host),
    teardown() {
      const problems = engines?.teardownSync() ?? []
      if (problems.length > 0) throw new Error(`engines' teardown left things behind: ${problems.join('; ')}`)
    },
  }
}

const discovery = suite('hosts: service discovery and the routing mesh (containers)')

/** The machine's engine and the test image are there (failing, never skipping, without them). */
async function needsEngineAndImage(): Promise<void> {
  const engine = await DockerDriver.engineAnswers()
  if (!engine.ok) assert.unreachable(`no Docker engine: ${engine.error} (start dockerd)`)
  await new Docker().getImage(TEST_IMAGE).inspect().catch(() => assert.unreachable(`no ${TEST_IMAGE}: run scripts/build-test-image.sh`))
  const left = sweepStaleEngines()
  if (left.length > 0) console.log(`    earlier runs' engines: ${left.join('; ')}`)
}

discovery('two tiers of containers by bare name through kernel NAT rules: every host\'s published port answers from outside, DNS names the ready task only, and a power cut of the back end\'s host is recovered within 3 s of the replacement turning healthy', async () => {
  await needsEngineAndImage()
  await twoTierThroughAPowerCut(containers(), 'kernel')
})

discovery('the same through the userspace proxy, listening on the service addresses the containers reach', async () => {
  await needsEngineAndImage()
  await twoTierThroughAPowerCut(containers(), 'userspace')
})

discovery.run()
