// capAdd and capDrop: written in any case, with or without CAP_; kept upper case without the prefix,
// sorted and once each; names that are no capability, and one capability in both lists, refused.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { LINUX_CAPABILITIES, normalCapability, SPEC_LIMITS, validateService, type ServiceSpec, type SpecError } from '../../../core/index.js'

function validated(body: Record<string, unknown>): { spec?: ServiceSpec; errors: SpecError[] } {
  const errors: SpecError[] = []
  const spec = validateService('web', { name: 'web', image: 'app', ...body }, '', errors)
  return { spec, errors }
}

const Names = suite('capabilities: names')

Names('any case, with or without CAP_, comes out upper case without the prefix', () => {
  const table: Array<[string, string | undefined]> = [
    ['NET_ADMIN', 'NET_ADMIN'], ['net_admin', 'NET_ADMIN'], ['CAP_NET_ADMIN', 'NET_ADMIN'], ['cap_sys_time', 'SYS_TIME'],
    ['ALL', 'ALL'], ['all', 'ALL'], ['NET_ADMINN', undefined], ['CAP_', undefined], ['', undefined], ['NET ADMIN', undefined],
  ]
  for (const [written, normal] of table) assert.is(normalCapability(written), normal, written)
})

Names('every listed capability is its own normal form', () => {
  for (const name of LINUX_CAPABILITIES) assert.is(normalCapability(name), name)
})

const Lists = suite('capabilities: capAdd and capDrop')

Lists('sorted, once each', () => {
  const { spec, errors } = validated({ capAdd: ['SYS_TIME', 'cap_net_admin', 'NET_ADMIN'], capDrop: ['all'] })
  assert.equal(errors, [])
  assert.equal(spec!.capAdd, ['NET_ADMIN', 'SYS_TIME'])
  assert.equal(spec!.capDrop, ['ALL'])
})

Lists('refusals name the field and the entry', () => {
  const cases: Array<[Record<string, unknown>, string[], RegExp]> = [
    [{ capAdd: 'NET_ADMIN' }, ['capAdd'], /list of Linux capabilities/],
    [{ capAdd: ['NET_ADMIN', 'NET_ADMINN'] }, ['capAdd[1]'], /Linux capability such as NET_ADMIN/],
    [{ capDrop: [5] }, ['capDrop[0]'], /Linux capability/],
    [{ capAdd: Array.from({ length: SPEC_LIMITS.maxCapabilities + 1 }, () => 'CHOWN') }, ['capAdd'], /at most 64 capabilities/],
    [{ capAdd: ['NET_ADMIN', 'CHOWN'], capDrop: ['cap_net_admin', 'chown'] }, ['capDrop'], /CHOWN, NET_ADMIN are in capAdd too/],
    [{ capAdd: ['ALL'], capDrop: ['ALL'] }, ['capDrop'], /ALL is in capAdd too/],
    [{ driver: 'process', image: undefined, command: 'run', capDrop: ['ALL'] }, ['capDrop'], /is for containers \(driver: docker\)/],
  ]
  for (const [body, paths, message] of cases) {
    const { spec, errors } = validated(body)
    assert.is(spec, undefined, JSON.stringify(body))
    assert.equal(errors.map((e) => e.path), paths, JSON.stringify(body))
    assert.match(errors[0]!.message, message)
  }
})

Names.run()
Lists.run()
