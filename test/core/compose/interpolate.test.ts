// Interpolation as compose-go's template package does it: the forms, nesting, escapes, the errors
// and the unset warnings, per value and over a whole file.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { interpolateDocument, substitute } from '../../../core/compose/interpolate.js'
import type { Report } from '../../../core/compose/report.js'
import { assertLines, line, translate } from './translate-one.js'

const ENV: Record<string, string> = { SET: 'value', EMPTY: '', TAG: '1.25', PORT: '8080', N: '3', NAME: 'db' }
const lookup = (name: string): string | undefined => (Object.hasOwn(ENV, name) ? ENV[name] : undefined)

const silent: Report = { error: () => assert.unreachable('no error expected'), warn: () => undefined, errorCount: () => 0 }

const Substitute = suite('substitute')

const VALUES: ReadonlyArray<readonly [template: string, expected: string, unset?: string[]]> = [
  ['plain text', 'plain text'],
  ['$SET', 'value'],
  ['${SET}', 'value'],
  ['nginx:${TAG}', 'nginx:1.25'],
  ['${PORT}:80', '8080:80'],
  ['$SET-$SET', 'value-value'],
  ['${UNSET}', '', ['UNSET']],
  ['$UNSET', '', ['UNSET']],
  ['a${UNSET}b$UNSET', 'ab', ['UNSET', 'UNSET']],
  ['${UNSET:-fallback}', 'fallback'],
  ['${EMPTY:-fallback}', 'fallback'],
  ['${SET:-fallback}', 'value'],
  ['${UNSET-fallback}', 'fallback'],
  ['${EMPTY-fallback}', ''],
  ['${SET:+other}', 'other'],
  ['${EMPTY:+other}', ''],
  ['${UNSET:+other}', ''],
  ['${EMPTY+other}', 'other'],
  ['${UNSET+other}', ''],
  ['${SET:?must be set}', 'value'],
  ['${EMPTY?must be set}', ''],
  ['${UNSET:-${SET}}', 'value'],
  ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
  ['${UNSET:-${ALSO_UNSET}}', '', ['ALSO_UNSET']],
  ['${UNSET:-a}${SET}', 'avalue'],
  ['${UNSET:-has spaces and : colons}', 'has spaces and : colons'],
  ['$$', '$'],
  ['$$SET', '$SET'],
  ['$${SET}', '${SET}'],
  ['price: 5$', 'price: 5$'],
  ['$1 and $ alone', '$1 and $ alone'],
  ['${set}', '', ['set']],
  ['${N}', '3'],
]

Substitute('each form gives the value compose gives', () => {
  for (const [template, expected, unset = []] of VALUES) {
    const result = substitute(template, lookup)
    assert.ok(result.ok, template)
    if (result.ok) {
      assert.is(result.value, expected, template)
      assert.equal([...result.unset], unset, template)
    }
  }
})

const ERRORS: ReadonlyArray<readonly [template: string, fragment: string]> = [
  ['${UNSET:?set UNSET first}', 'required variable UNSET is missing a value: set UNSET first'],
  ['${EMPTY:?cannot be empty}', 'required variable EMPTY is missing a value: cannot be empty'],
  ['${UNSET?}', 'required variable UNSET is missing a value'],
  ['${UNSET:?needs $NAME}', 'required variable UNSET is missing a value: needs db'],
  ['${UNSET:-${OTHER:?inner}}', 'required variable OTHER is missing a value: inner'],
  ['${', 'invalid interpolation format'],
  ['${}', 'invalid interpolation format'],
  ['${1A}', 'invalid interpolation format'],
  ['${SET', 'invalid interpolation format'],
  ['${SET x}', 'invalid interpolation format'],
  ['${SET:-unclosed', 'invalid interpolation format'],
]

Substitute('missing required variables and malformed templates are errors naming them', () => {
  for (const [template, fragment] of ERRORS) {
    const result = substitute(template, lookup)
    assert.not.ok(result.ok, template)
    if (!result.ok) assert.ok(result.error.includes(fragment), `${template}: ${result.error}`)
  }
})

const Document = suite('interpolation over a compose file')

Document('applies to values, not keys', () => {
  const document = interpolateDocument({ labels: { '${SET}': '${SET}' }, list: ['$SET', 1, true, null] }, ENV, silent)
  assert.equal(document, { labels: { '${SET}': 'value' }, list: ['value', 1, true, null] })
})

Document('interpolated numbers are read as numbers where compose expects one', () => {
  const result = translate({ services: { web: { image: 'nginx:${TAG}', deploy: { replicas: '${N}' }, ports: ['${PORT}:80'] } } }, { environment: ENV })
  assert.ok(result.ok)
  if (result.ok) assert.equal(result.services, [{ name: 'web', image: 'nginx:1.25', replicas: 3, resources: { cpu: '0m', memory: 0 }, ports: [{ host: 8080, container: 80, protocol: 'tcp', mode: 'ingress' }] }])
})

Document('an unset variable warns once per variable in a file, at its first use', () => {
  const result = translate({ services: { web: { image: 'nginx${UNSET}', command: ['${UNSET}', '$UNSET', '${OTHER}'] } } })
  assert.ok(result.ok)
  assertLines(result.warnings.map(line), [
    'services.web.image: ${UNSET} is not set; using ""',
    'services.web.command[2]: ${OTHER} is not set; using ""',
  ])
})

Document('a missing required variable is an error naming the variable and the field', () => {
  const result = translate({ services: { web: { image: 'nginx', environment: { DB: '${DB_URL:?set DB_URL}' } } } })
  assert.not.ok(result.ok)
  if (!result.ok) assert.equal(result.errors.map(line), ['services.web.environment.DB: required variable DB_URL is missing a value: set DB_URL'])
})

Document('extension fields are interpolated too, as compose does', () => {
  const result = translate({ 'x-common': '${BROKEN', services: { web: { image: 'nginx' } } })
  assert.not.ok(result.ok)
  if (!result.ok) assert.equal(result.errors.map((e) => e.path), ['x-common'])
})

Substitute.run()
Document.run()
