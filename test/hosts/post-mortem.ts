// What each agent knew at the end of a run, kept beside its history for a person to read: its events,
// its view of the cluster (every peer's advert as this agent last heard it), its tasks and its log.
// The history says what ran; this says why each agent thought it should.

import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ask } from '../../cli/agent-client.js'
import type { Hosts } from './hosts.js'

/** Writes `<dir>/<name>-postmortem/<host>.json` and `<host>.log` for every host; returns the folder. */
export async function savePostMortem(dir: string, name: string, hosts: Hosts): Promise<string> {
  const folder = join(dir, `${name}-${new Date().toISOString().replaceAll(':', '')}-postmortem`)
  mkdirSync(folder, { recursive: true })
  await Promise.all(hosts.hosts.map(async (host) => {
    const asked = async (route: 'GET /v1/events' | 'GET /v1/cluster' | 'GET /v1/tasks'): Promise<unknown> => {
      try {
        return await ask({ peer: host.socket, timeoutMs: 3_000 }, route)
      } catch (error) {
        return { error: (error as Error).message }
      }
    }
    const [events, cluster, tasks] = [await asked('GET /v1/events'), await asked('GET /v1/cluster'), await asked('GET /v1/tasks')]
    writeFileSync(join(folder, `${host.name}.json`), `${JSON.stringify({ host: host.name, peerId: host.peerId, events, cluster, tasks }, null, 1)}\n`)
    if (existsSync(host.log)) copyFileSync(host.log, join(folder, `${host.name}.log`))
  }))
  return folder
}
