// Profiles, as compose applies them: a service without `profiles:` always runs; one with profiles
// runs only when one of them is active (`--profile`), or every profile is (`--profile "*"`).

import { join } from './field-path.js'
import type { Report } from './report.js'
import { readStrings } from './values.js'

export function enabledByProfiles(service: Record<string, unknown>, active: readonly string[], path: string, report: Report): boolean {
  const profiles = readStrings(service.profiles, join(path, 'profiles'), report)
  if (profiles === undefined || profiles.length === 0) return true
  return active.includes('*') || profiles.some((profile) => active.includes(profile))
}
