// The web view in a real browser against real agents, each its own process (the compiled bin): three
// agents run a service of three process tasks; the page on agent 2 shows the three peers and the
// replicas and a pending service with its reason, loads nothing from anywhere but agent 2, and never
// shows an env value. Agent 3 is killed
// -9: within 5 s the page, with nobody reloading it, shows that peer dead and its slot running
// elsewhere; a page opened after that shows the slot's move from the dead peer, and both survivors'
// slot history says so. web publishes an ingress port: its card shows the mesh port, its service
// address and its three endpoints, and the header this agent's forwarding mode. Screenshots (desktop,
// phone, the service's ports) land in test-output/ui/. A second test opens the page
// beyond loopback (--ui 0.0.0.0:port), where it asks for the data directory's token.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalCluster, type LocalAgent } from '../../../cli/local-cluster.js'
import type { SlotHistoryAnswer, TaskRow } from '../../../node/control/index.js'
import { UI_TOKEN_FILE } from '../../../node/web/index.js'
import { PEER_COMMAND } from '../../peer-command.js'
import { runCli } from '../../cli/run-cli.js'
import { exactlyOnce, tasksOf, waitForTasks, withLogTails } from '../agent/cluster-support.js'
import { launchBrowser, SCREENSHOTS } from './browser.js'

// What the functions run inside the page use of the DOM (the tests compile without the DOM's types).
interface PageElement {
  readonly textContent: string | null
}
declare const document: {
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): { readonly length: number }
  readonly documentElement: { readonly scrollWidth: number }
}
declare const window: { readonly innerWidth: number }

const ENV_VALUE = 'do-not-show-this-value-4711'
/** web's ingress port: the routing mesh listens on it on every agent (127.0.0.i). */
const MESH_PORT = 18_473
/** The brief's bound for the page to show a kill -9 and the slot moving (failover is ~2 s on lan). */
const SHOWN_WITHIN_MS = 5_000

const short = (peer: string): string => peer.slice(-12)

async function applyWeb(base: string, agent: LocalAgent): Promise<void> {
  const spec = join(base, 'web.yaml')
  await writeFile(spec, ['services:', '  web:', '    command: ["sh", "-c", "exec sleep 600"]', '    replicas: 3', `    ports: [{ host: ${MESH_PORT}, container: 80, mode: ingress }]`, '    env:', `      TOKEN: ${ENV_VALUE}`, '    resources: { cpu: 100m, memory: 32Mi }', ''].join('\n'))
  const applied = await runCli(['apply', '-f', spec, '--data', agent.dir])
  assert.is(applied.code, 0, applied.stderr)
}

/** The status of GET / on `address` sent with this Host header (fetch does not let a caller set it). */
function statusWithHost(address: string, host: string): Promise<number> {
  const [hostname, port] = address.split(':') as [string, string]
  return new Promise((resolve, reject) => {
    request({ hostname, port: Number(port), path: '/', headers: { host } }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    }).on('error', reject).end()
  })
}

const web = suite('web view')

web('the page on agent 2 shows three peers and the replicas live; a kill -9 shows as dead, the slot moved, within 5 s', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pw-'))
  const local = await LocalCluster.create({ base, count: 3, addresses: 'range', agentArgs: ['--cpu', '2', '--memory', '2Gi', '--usage-interval', '1'], command: PEER_COMMAND })
  const [a1, a2, a3] = local.agents as [LocalAgent, LocalAgent, LocalAgent]
  const browser = await launchBrowser()
  try {
    await local.startAll()
    await Promise.all(local.agents.map((agent) => local.waitForMembers(agent.index, 3)))
    await applyWeb(base, a1)
    await waitForTasks('web on three peers', a2, 30_000, (tasks) => exactlyOnce(tasks, 'web', 3))
    const onA3 = (await tasksOf(a2)).find((task: TaskRow) => task.service === 'web' && task.peer === a3.peerId)
    assert.ok(onA3, 'a slot of web runs on agent 3')

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const requested: string[] = []
    page.on('request', (request) => requested.push(request.url()))
    const problems: string[] = []
    page.on('pageerror', (error) => problems.push(error.message))
    await page.goto(`http://${a2.ui}/`)
    await page.waitForFunction(() => document.querySelectorAll('[data-peer]').length === 3 && document.querySelectorAll('[data-service="web"] [data-slot]').length === 3, undefined, { timeout: 10_000 })
    for (const agent of local.agents) assert.ok(await page.locator(`[data-peer="${agent.peerId}"]`).count(), `peer ${agent.index} shown`)
    assert.match(await page.locator('[data-service="web"]').innerText(), /3\s+desired/)
    assert.match(await page.locator(`[data-slot="${onA3.slot}"]`).innerText(), short(a3.peerId!))
    // The port's card: reached by name and through the mesh on every peer, served by three ready tasks.
    await page.waitForFunction(() => document.querySelectorAll('[data-port="web:80/tcp"] [data-endpoint].ready').length === 3, undefined, { timeout: 10_000 })
    const port = await page.locator('[data-port="web:80/tcp"]').innerText()
    assert.match(port, `mesh :${MESH_PORT} on every peer`)
    assert.match(port, /web\.peer:80 \(127\.\d+\.\d+\.\d+\)/)
    assert.match(await page.locator(`[data-endpoint="${onA3.slot}"]`).innerText(), new RegExp(`${onA3.slot}\\s+@ ${short(a3.peerId!)}\\s+127\\.0\\.0\\.3:\\d+\\s+ready`))
    assert.match(await page.locator('#forwarding').innerText(), /^forwarding userspace/)
    await page.locator('[data-service="web"]').screenshot({ path: join(SCREENSHOTS, 'service-ports.png') })
    await page.click(`[data-slot="${onA3.slot}"]`)
    await page.waitForSelector(`[data-detail="${onA3.slot}"]`)
    assert.equal(problems, [])
    assert.not.match(await page.content(), ENV_VALUE)
    // The API the page reads has no env either, whatever it is asked.
    for (const path of ['cluster', 'services/web', 'history', 'endpoints']) assert.not.match(await (await page.request.get(`http://${a2.ui}/ui/api/v1/${path}`)).text(), ENV_VALUE)

    // A service no peer can take shows as pending, with the reason the peers gave.
    const huge = join(base, 'huge.yaml')
    await writeFile(huge, ['services:', '  huge:', '    command: ["sh", "-c", "exec sleep 600"]', '    resources: { cpu: 64 }', ''].join('\n'))
    assert.is((await runCli(['apply', '-f', huge, '--data', a1.dir])).code, 0)
    await page.waitForFunction(() => /cpu/i.test(document.querySelector('[data-pending="huge"]')?.textContent ?? ''), undefined, { timeout: 10_000 })
    // A loopback page answers only to loopback names: another site's DNS name pointed here is refused.
    assert.is(await statusWithHost(a2.ui, 'evil.example'), 403)

    const killedAt = Date.now()
    await local.kill(3)
    await page.waitForSelector(`[data-peer="${a3.peerId}"].state-dead`, { timeout: SHOWN_WITHIN_MS })
    const movedTo = await page.waitForFunction(
      ({ slot, dead }) => {
        const button = document.querySelector(`[data-service="web"] [data-slot="${slot}"]`)
        const text = button?.textContent ?? ''
        return button !== null && !text.includes(dead) && /running|healthy/.test(text) ? text : false
      },
      { slot: onA3.slot, dead: short(a3.peerId!) },
      { timeout: Math.max(1, SHOWN_WITHIN_MS - (Date.now() - killedAt)) },
    )
    const shownMs = Date.now() - killedAt
    assert.ok(shownMs <= SHOWN_WITHIN_MS, `shown after ${shownMs} ms`)
    assert.match(String(await movedTo.jsonValue()), new RegExp(`${short(a1.peerId!)}|${short(a2.peerId!)}`))
    // Its endpoint follows it: ready again on a survivor.
    await page.waitForFunction(
      ({ slot, dead }) => {
        const text = document.querySelector(`[data-endpoint="${slot}"].ready`)?.textContent ?? ''
        return text !== '' && !text.includes(dead)
      },
      { slot: onA3.slot, dead: short(a3.peerId!) },
      { timeout: 5_000 },
    )
    // The slot's story names the move and why: the peer it left is dead.
    await page.waitForFunction((dead) => (document.querySelector('[data-placements]')?.textContent ?? '').includes(`moved from ${dead}: peer dead`), short(a3.peerId!), { timeout: 5_000 })
    await page.screenshot({ path: join(SCREENSHOTS, 'after-kill-desktop.png'), fullPage: true })

    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true })
    phone.on('request', (request) => requested.push(request.url()))
    await phone.goto(`http://${a2.ui}/`)
    await phone.waitForSelector(`[data-peer="${a3.peerId}"].state-dead`)
    await phone.waitForFunction(() => document.querySelectorAll('[data-service="web"] [data-slot]').length === 3)
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone's screen`)
    // Opened after the failover, the page still tells it: the agents keep each slot's history.
    await phone.click(`[data-slot="${onA3.slot}"]`)
    await phone.waitForFunction((dead) => (document.querySelector('[data-placements]')?.textContent ?? '').includes(`moved from ${dead}: peer dead`), short(a3.peerId!), { timeout: 5_000 })
    await phone.screenshot({ path: join(SCREENSHOTS, 'after-kill-phone.png'), fullPage: true })
    for (const survivor of [a1, a2]) {
      const answer = (await (await phone.request.get(`http://${survivor.ui}/ui/api/v1/slots/${encodeURIComponent(onA3.slot)}/history`)).json()) as SlotHistoryAnswer
      const [before, after] = answer.placements.slice(-2)
      assert.is(before?.peer, a3.peerId, `agent ${survivor.index}: the slot ran on the killed peer`)
      assert.equal({ from: after?.from, reason: after?.reason }, { from: a3.peerId, reason: 'peer-dead' }, `agent ${survivor.index}: ${JSON.stringify(answer)}`)
      assert.ok(after!.peer === a1.peerId || after!.peer === a2.peerId, `agent ${survivor.index}: moved to a survivor`)
    }
    const why = await runCli(['why', onA3.slot, '--data', a1.dir])
    assert.is(why.code, 0, why.stderr)
    assert.match(why.stdout, `moved from ${short(a3.peerId!)}: peer dead`)

    const elsewhere = requested.filter((url) => !url.startsWith(`http://${a2.ui}/`) && !url.startsWith('data:'))
    assert.equal(elsewhere, [], 'the page loads everything from the agent that served it')
  } catch (error) {
    throw await withLogTails(error, local.agents.map((agent) => agent.log))
  } finally {
    await browser.close()
    await local.stopAll(10_000)
    await rm(base, { recursive: true, force: true })
  }
})

web('beyond loopback the page asks for the token: none or a wrong one is a 401; the right one as a header or ?token= (which sets a cookie) lets the page in', async () => {
  const base = await mkdtemp(join(tmpdir(), 'pwt-'))
  const local = await LocalCluster.create({ base, count: 1, addresses: 'single', command: PEER_COMMAND })
  const agent = local.agent(1)
  const port = agent.ui.split(':')[1]!
  const browser = await launchBrowser()
  try {
    await local.start(1, ['--ui', `0.0.0.0:${port}`])
    const token = (await readFile(join(agent.dir, UI_TOKEN_FILE), 'utf8')).trim()
    const url = `http://127.0.0.1:${port}`
    const status = async (path: string, headers: Record<string, string> = {}): Promise<number> => (await fetch(`${url}${path}`, { headers, redirect: 'manual' })).status
    assert.is(await status('/'), 401)
    assert.is(await status('/ui/api/v1/nodes'), 401)
    assert.is(await status('/ui/api/v1/events?follow=1'), 401)
    assert.is(await status('/', { authorization: `Bearer ${'0'.repeat(64)}` }), 401)
    assert.is(await status(`/?token=${'0'.repeat(64)}`), 401)
    assert.is(await status('/', { cookie: 'peer_ui_token=wrong' }), 401)
    assert.is(await status('/ui/api/v1/nodes', { authorization: `Bearer ${token}` }), 200)
    const viaQuery = await fetch(`${url}/?token=${token}`, { redirect: 'manual' })
    assert.is(viaQuery.status, 303)
    assert.is(viaQuery.headers.get('location'), '/')
    assert.match(viaQuery.headers.get('set-cookie') ?? '', /HttpOnly/)
    // Read-only, and only the read-only routes, token or not.
    assert.is((await fetch(`${url}/ui/api/v1/apply`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, 405)
    assert.is(await status('/ui/api/v1/secrets', { authorization: `Bearer ${token}` }), 404)
    assert.is(await status('/ui/api/v1/logs/web%2F0', { authorization: `Bearer ${token}` }), 404)

    const page = await browser.newPage()
    await page.goto(`${url}/?token=${token}`)
    assert.is(new URL(page.url()).search, '', 'the token leaves the address bar')
    await page.waitForSelector(`[data-peer="${agent.peerId}"]`, { timeout: 10_000 })
    await page.waitForSelector('#stream-state.ok', { timeout: 10_000 })
    await page.screenshot({ path: join(SCREENSHOTS, 'token.png'), fullPage: true })
  } catch (error) {
    throw await withLogTails(error, [agent.log])
  } finally {
    await browser.close()
    await local.stopAll(10_000)
    await rm(base, { recursive: true, force: true })
  }
})

web('bad --ui values are refused with exit 2 naming the flag; an address given on purpose that cannot be bound stops the start', async () => {
  for (const value of ['nowhere', '1.2.3.4:99999']) {
    const result = await runCli(['agent', '--data', '/nonexistent', '--ui', value])
    assert.is(result.code, 2, `--ui ${value}: ${result.stderr}`)
    assert.match(result.stderr, '--ui')
  }
  const base = await mkdtemp(join(tmpdir(), 'pwu-'))
  const local = await LocalCluster.create({ base, count: 2, addresses: 'single', command: PEER_COMMAND })
  try {
    const first = await local.start(1)
    const refused = await local.start(2, ['--ui', first.ui]).then(() => 'started', (error: unknown) => String(error))
    assert.match(refused, /agent 2 exited/)
    assert.match(await readFile(local.agent(2).log, 'utf8'), new RegExp(`--ui ${first.ui.replace(/\./g, '\\.')}: cannot listen there`))
  } finally {
    await local.stopAll(10_000)
    await rm(base, { recursive: true, force: true })
  }
})

web.run()
