// Why kernel forwarding is not available, in words a person can act on. The root case with a working
// iptables is checked inside a namespace by kernel-forwarder.test.ts; these never reach iptables.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { kernelForwardingAvailable } from '../../../../node/discovery/kernel/index.js'

const available = suite('kernel forwarding available')
const INDEX = fileURLToPath(new URL('../../../../node/discovery/kernel/index.ts', import.meta.url))

/** Both checks get past the uid test only as root, which CI has: never skipped. */
available.before(() => {
  if (process.getuid?.() !== 0) throw new Error('these checks need root (to switch to another uid, and to pass the uid test)')
})

available('without root, the reason names the uid', () => {
  const script = `import { kernelForwardingAvailable } from ${JSON.stringify(INDEX)}; console.log(JSON.stringify(await kernelForwardingAvailable()))`
  const output = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })
  assert.equal(JSON.parse(output.trim()), { ok: false, reason: 'kernel forwarding needs root; the agent runs as uid 65534' })
})

available('without iptables, the reason says it is not installed', async () => {
  const check = await kernelForwardingAvailable({ iptables: { save: ['/nonexistent/iptables-save'], restore: ['/nonexistent/iptables-restore'] } })
  assert.is(check.ok, false)
  assert.match((check as { reason: string }).reason, /^iptables cannot make the NAT rules kernel forwarding needs: .*\/nonexistent\/iptables-restore is not installed/)
})

available.run()
