// Paths in a spec are absolute and clean: one spelling per place.

import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { isCleanAbsolutePath } from '../../../core/index.js'

const Paths = suite('isCleanAbsolutePath')

const table: Array<[string, boolean]> = [
  ['/', true], ['/data', true], ['/var/lib/data', true], ['/a b/ä', true], ['/.hidden', true], ['/a..b', true],
  ['', false], ['data', false], ['./data', false], ['/data/', false], ['//data', false], ['/a//b', false],
  ['/a/./b', false], ['/a/../b', false], ['/..', false], ['/.', false],
]
for (const [path, clean] of table) {
  Paths(`${JSON.stringify(path)} is ${clean ? '' : 'not '}clean`, () => {
    assert.is(isCleanAbsolutePath(path), clean)
  })
}

Paths.run()
