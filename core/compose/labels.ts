// labels, label_file and deploy.labels. peer has one set of labels per service, carried to its tasks,
// so all three merge: label files first, `labels:` over them, then deploy.labels, which wins a
// conflict with a warning naming the key. A label written with no value is the empty string, as
// compose reads it.

import { quoted } from '../error-message.js'
import { LABEL_KEY, LABEL_KEY_RULE } from '../service-spec/index.js'
import { join } from './field-path.js'
import { readKeyValueFiles } from './key-value-files.js'
import type { ServiceContext } from './project.js'
import { put, readPairs } from './values.js'

export function readLabels(service: Record<string, unknown>, deployLabels: unknown, context: ServiceContext): Record<string, string> | undefined {
  const { report, project } = context
  const lookup = (name: string): string | undefined => (Object.hasOwn(project.environment, name) ? project.environment[name] : undefined)
  const labels: Record<string, string> = {}
  const add = (key: string, value: string, path: string): void => {
    if (!LABEL_KEY.test(key)) report.error(path, `${quoted(key)} is not a peer label key: ${LABEL_KEY_RULE}`)
    else put(labels, key, value)
  }
  for (const [key, value] of Object.entries(readKeyValueFiles(service.label_file, 'label_file', context, lookup))) add(key, value, join(context.path, 'label_file'))
  for (const pair of readPairs(service.labels, join(context.path, 'labels'), report) ?? []) add(pair.key, pair.value ?? '', pair.path)
  const fromService = new Set(Object.keys(labels))
  for (const pair of readPairs(deployLabels, join(context.path, 'deploy.labels'), report) ?? []) {
    const value = pair.value ?? ''
    if (fromService.has(pair.key) && labels[pair.key] !== value) {
      report.warn(pair.path, `also in labels with another value (${quoted(labels[pair.key] ?? '')}); peer has one set of labels, and deploy.labels wins`)
    }
    add(pair.key, value, pair.path)
  }
  return Object.keys(labels).length > 0 ? labels : undefined
}
