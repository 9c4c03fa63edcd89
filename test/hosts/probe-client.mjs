// A client inside a network namespace, driven by the test over stdin/stdout: the test's own process
// lives in the machine's namespace and cannot reach the hosts' addresses or their loopback service
// addresses, so it starts this with `ip netns exec` and asks it questions, one JSON line each:
//
//   {"id":1,"op":"http","url":"http://10.1.2.3:8080/"}            → {"id":1,"ok":true,"status":200,"body":"…"}
//   {"id":2,"op":"dns","server":"127.77.0.1:53","type":"SRV","name":"_6379._tcp.kv.peer"}
//                                                                  → {"id":2,"ok":true,"records":[…]}
//   {"op":"loop","urls":[…],"intervalMs":100}  then one line per request, every URL on its own, forever:
//                                                                  → {"loop":true,"url":…,"at":<ms>,"ok":…,"body":…}
//
// Plain JavaScript with Node's built-ins only: it starts in a fraction of the time a TypeScript
// file run through tsx would, on a busy two-core machine.

import { promises as dns } from 'node:dns'
import { request } from 'node:http'
import { createInterface } from 'node:readline'

const TIMEOUT_MS = 2_000

const reply = (line) => process.stdout.write(`${JSON.stringify(line)}\n`)

function http(url) {
  return new Promise((resolve) => {
    const req = request(url, { timeout: TIMEOUT_MS, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({ ok: res.statusCode === 200, status: res.statusCode, body }))
      res.on('error', (error) => resolve({ ok: false, error: error.message }))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)))
    req.on('error', (error) => resolve({ ok: false, error: error.message }))
    req.end()
  })
}

async function lookup(server, type, name) {
  const resolver = new dns.Resolver({ timeout: TIMEOUT_MS, tries: 1 })
  resolver.setServers([server])
  try {
    return { ok: true, records: await resolver.resolve(name, type) }
  } catch (error) {
    return { ok: false, code: error.code, error: error.message }
  }
}

// One loop per URL, side by side: a host that lost power holds each of its requests for the whole
// timeout, which must not delay the requests to the others.
async function loop(url, intervalMs) {
  for (;;) {
    const at = Date.now()
    const answer = await http(url)
    reply({ loop: true, url, at, ms: Date.now() - at, ...answer })
    const wait = intervalMs - (Date.now() - at)
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
  }
}

createInterface({ input: process.stdin }).on('line', async (line) => {
  const ask = JSON.parse(line)
  switch (ask.op) {
    case 'http': return reply({ id: ask.id, ...(await http(ask.url)) })
    case 'dns': return reply({ id: ask.id, ...(await lookup(ask.server, ask.type, ask.name)) })
    case 'loop': return void ask.urls.forEach((url) => void loop(url, ask.intervalMs))
    default: return reply({ id: ask.id, ok: false, error: `unknown op ${ask.op}` })
  }
})
// The test going away ends the client.
process.stdin.on('end', () => process.exit(0))
