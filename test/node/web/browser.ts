// A real browser for the web view's tests: Debian's chromium (.ci/run installs it), driven headless
// by playwright-core, which downloads no browser of its own. Screenshots go to test-output/ui/
// (gitignored) for a person to look at.

import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { repoRoot } from '../../cli/run-cli.js'

export const CHROMIUM = '/usr/bin/chromium'
export const SCREENSHOTS = join(repoRoot, 'test-output', 'ui')

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-gpu', '--disable-dev-shm-usage'],
  })
}
