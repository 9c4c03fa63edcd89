// environment, env_file, labels and label_file.

import { suite } from 'uvu'
import { checkErrors, checkMappings } from './translate-one.js'

const FILES: Record<string, string> = {
  '/project/app.env': 'A=from-file\nB=from-file\nFROM_HOST\nREF=${B}-${HOST_ONLY}\n',
  '/project/more.env': 'B=later-file\n',
  '/project/labels.env': 'team=core\ntier=from-file\n',
  '/project/broken.env': 'A B=1\n',
}
const readText = (path: string): string | undefined => FILES[path]
const options = { environment: { FROM_HOST: 'host', HOST_ONLY: 'h' }, readText }

const Environment = suite('environment and labels')

Environment('environment in both forms', () => {
  checkMappings([
    { what: 'a map; numbers and booleans become strings', input: { environment: { A: 'x', N: 3, F: 1.5, B: true } }, output: { env: { A: 'x', N: '3', F: '1.5', B: 'true' } } },
    { what: 'a list', input: { environment: ['A=x', 'B=with=equals', 'C='] }, output: { env: { A: 'x', B: 'with=equals', C: '' } } },
    { what: 'a name alone takes the environment\'s value', input: { environment: ['FROM_HOST'] }, output: { env: { FROM_HOST: 'host' } }, options },
    { what: 'a null value likewise', input: { environment: { FROM_HOST: null } }, output: { env: { FROM_HOST: 'host' } }, options },
    { what: 'an unset name is left out', input: { environment: ['UNSET', 'A=1'] }, output: { env: { A: '1' } }, warnings: [] },
    { what: 'an unset null value likewise', input: { environment: { UNSET: null } }, output: {}, warnings: [] },
    {
      what: 'a Swarm template is kept as written, with a warning',
      input: { environment: ['NODE_ID={{.Node.ID}}', 'SLOT=task-{{ .Task.Slot }}', 'OTHER={{ not swarm }}'] },
      output: { env: { NODE_ID: '{{.Node.ID}}', SLOT: 'task-{{ .Task.Slot }}', OTHER: '{{ not swarm }}' } },
      warnings: [
        'services.web.environment[0]: kept as written: peer fills in no Swarm templates such as {{.Node.ID}}',
        'services.web.environment[1]: kept as written: peer fills in no Swarm templates such as {{ .Task.Slot }}',
      ],
    },
  ])
  checkErrors([
    { what: 'a name peer cannot take', input: { environment: { 'MY/VAR': '1' } }, errors: ['services.web.environment.MY/VAR: "MY/VAR" is not an environment variable name'] },
    { what: 'a nested value', input: { environment: { A: { b: 1 } } }, errors: ['services.web.environment.A: expected a string, number, boolean or null'] },
    { what: 'not a list or map', input: { environment: 'A=1' }, errors: ['services.web.environment: expected a map of names to values'] },
  ])
})

Environment('env_file, under environment', () => {
  checkMappings([
    {
      what: 'one file, resolved and interpolated',
      input: { env_file: 'app.env' },
      output: { env: { A: 'from-file', B: 'from-file', FROM_HOST: 'host', REF: 'from-file-h' } },
      options,
    },
    { what: 'later files win', input: { env_file: ['./app.env', 'more.env'], environment: { A: 'env' } }, output: { env: { A: 'env', B: 'later-file', FROM_HOST: 'host', REF: 'from-file-h' } }, options },
    { what: 'an optional missing file', input: { env_file: [{ path: 'missing.env', required: false }], environment: { A: '1' } }, output: { env: { A: '1' } }, options },
  ])
  checkErrors([
    { what: 'a missing file', input: { env_file: 'missing.env' }, options, errors: ['services.web.env_file: /project/missing.env: no such file'] },
    { what: 'a broken file', input: { env_file: ['broken.env'] }, options, errors: ['services.web.env_file[0]: /project/broken.env: line 1: a variable name cannot contain a space'] },
    { what: 'an unknown format', input: { env_file: [{ path: 'app.env', format: 'json' }] }, options, errors: ['env_file[0].format: unsupported format "json"'] },
  ])
})

Environment('labels and label_file', () => {
  checkMappings([
    { what: 'a map', input: { labels: { 'com.example.tier': 'web', n: 1 } }, output: { labels: { 'com.example.tier': 'web', n: '1' } } },
    { what: 'a list; a key alone is empty', input: { labels: ['a=1', 'flag'] }, output: { labels: { a: '1', flag: '' } } },
    { what: 'label_file under labels', input: { label_file: 'labels.env', labels: { tier: 'web' } }, output: { labels: { team: 'core', tier: 'web' } }, options },
  ])
  checkErrors([{ what: 'a key peer cannot take', input: { labels: { '-bad': 'x' } }, errors: ['services.web.labels["-bad"]: "-bad" is not a peer label key'] }])
})

Environment.run()
