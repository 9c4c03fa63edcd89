// A service spec for a host test, validated as `peer apply` would: the checker and the history need
// the spec the agents run, and a test's own body that fails validation is the test's bug, said at once.

import { validateService, type ServiceSpec, type SpecError } from '../../core/index.js'

export function validService(name: string, body: Record<string, unknown>): ServiceSpec {
  const errors: SpecError[] = []
  const spec = validateService(name, body, name, errors)
  if (spec === undefined) throw new Error(`test service ${name} is invalid: ${JSON.stringify(errors)}`)
  return spec
}
