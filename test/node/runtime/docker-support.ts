// What the Docker tests need from the machine: an engine that answers and the local test image
// (built from busybox-static by scripts/build-test-image.sh, since no registry is reachable).

import type Docker from 'dockerode'
import { DockerDriver } from '../../../node/runtime/docker-driver.js'

export const TEST_IMAGE = 'peer-test:latest'

export async function dockerAvailable(docker: Docker): Promise<{ ok: true } | { ok: false; error: string }> {
  const engine = await DockerDriver.engineAnswers(docker)
  if (!engine.ok) return { ok: false, error: `the engine does not answer (${engine.error})` }
  try {
    await docker.getImage(TEST_IMAGE).inspect()
    return { ok: true }
  } catch {
    return { ok: false, error: `image ${TEST_IMAGE} is missing` }
  }
}
