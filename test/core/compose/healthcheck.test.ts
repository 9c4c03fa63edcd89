// healthcheck: test forms, Docker's defaults for timings, and no healthcheck.

import { suite } from 'uvu'
import { checkErrors, checkMappings } from './translate-one.js'

const DEFAULTS = { interval: '30s', timeout: '30s', retries: 3, startPeriod: '0s' }

const Healthcheck = suite('healthcheck')

Healthcheck('test forms and timings', () => {
  checkMappings([
    { what: 'CMD', input: { healthcheck: { test: ['CMD', 'curl', '-f', 'http://localhost'] } }, output: { healthcheck: { command: ['curl', '-f', 'http://localhost'], ...DEFAULTS } } },
    { what: 'CMD-SHELL', input: { healthcheck: { test: ['CMD-SHELL', 'curl -f http://localhost || exit 1'] } }, output: { healthcheck: { command: ['/bin/sh', '-c', 'curl -f http://localhost || exit 1'], ...DEFAULTS } } },
    { what: 'a string is CMD-SHELL', input: { healthcheck: { test: 'pg_isready' } }, output: { healthcheck: { command: ['/bin/sh', '-c', 'pg_isready'], ...DEFAULTS } } },
    {
      what: 'timings',
      input: { healthcheck: { test: ['CMD', 'true'], interval: '5s', timeout: '2s', retries: '5', start_period: '1m' } },
      output: { healthcheck: { command: ['true'], interval: '5s', timeout: '2s', retries: 5, startPeriod: '1m' } },
    },
    { what: 'zeros mean Docker\'s defaults', input: { healthcheck: { test: ['CMD', 'true'], interval: '0s', timeout: 0, retries: 0 } }, output: { healthcheck: { command: ['true'], ...DEFAULTS } } },
    { what: 'NONE', input: { healthcheck: { test: ['NONE'] } }, output: {} },
    { what: 'disable', input: { healthcheck: { disable: true } }, output: {} },
    { what: 'disable with a test (as a merge gives)', input: { healthcheck: { disable: true, test: ['CMD', 'true'] } }, output: {} },
    { what: 'start_interval', input: { healthcheck: { test: ['CMD', 'true'], start_interval: '1s' } }, output: { healthcheck: { command: ['true'], ...DEFAULTS } }, warnings: ['services.web.healthcheck.start_interval: ignored'] },
    { what: 'no test', input: { healthcheck: { interval: '5s' } }, output: {}, warnings: ['services.web.healthcheck.test: ignored healthcheck: it has no test'] },
  ])
  checkErrors([
    { what: 'an unknown test kind', input: { healthcheck: { test: ['RUN', 'x'] } }, errors: ['services.web.healthcheck.test: expected the test to start with CMD, CMD-SHELL or NONE'] },
    { what: 'CMD alone', input: { healthcheck: { test: ['CMD'] } }, errors: ['services.web.healthcheck.test: CMD needs the program to run'] },
    { what: 'an interval below peer\'s minimum', input: { healthcheck: { test: 'true', interval: '1ms' } }, errors: ['services.web.healthcheck.interval: expected a duration from 10ms to 24h, not 1ms'] },
    { what: 'too many retries', input: { healthcheck: { test: 'true', retries: 1001 } }, errors: ['services.web.healthcheck.retries: expected a whole number from 0 to 1000'] },
    { what: 'a typo', input: { healthcheck: { test: 'true', intervall: '5s' } }, errors: ['services.web.healthcheck.intervall: unknown field'] },
  ])
})

Healthcheck.run()
