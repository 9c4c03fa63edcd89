// Placement. Swarm constraints name node attributes; peer's name peer labels:
//   node.labels.K      → K               (peer agent --labels)
//   engine.labels.K    → K, with a warning: peer has one label set, its agent's
//   node.hostname      → peer.hostname   (built-in peer labels)
//   node.id            → peer.id
//   node.platform.os   → peer.os
//   node.platform.arch → peer.arch       (uname values such as x86_64, as Swarm reports them)
//   node.role          → ignored with a warning: peers have no manager or worker role
// Constraints come out as `{ label, op, value }` objects, so no value is parsed twice. A spread
// preference becomes spreadBy (peer spreads by one label; the rest are ignored with a warning), and
// max_replicas_per_node becomes maxPerNode.

import { quoted } from '../error-message.js'
import { LABEL_KEY, LABEL_KEY_RULE, SPEC_LIMITS } from '../service-spec/index.js'
import { PLACEMENT_FIELDS } from './fields.js'
import { item, join } from './field-path.js'
import type { Report } from './report.js'
import { checkKeys, isMap, readMap, readString, readWhole } from './values.js'

export interface WrittenConstraint {
  readonly label: string
  readonly op: '==' | '!='
  readonly value: string
}

export interface WrittenPlacement {
  constraints?: WrittenConstraint[]
  spreadBy?: string
  maxPerNode?: number
}

const BUILT_IN: Readonly<Record<string, string>> = {
  'node.hostname': 'peer.hostname',
  'node.id': 'peer.id',
  'node.platform.os': 'peer.os',
  'node.platform.arch': 'peer.arch',
}

export function readPlacement(value: unknown, path: string, report: Report): WrittenPlacement {
  const placement = readMap(value, path, report, 'a map such as { constraints: ["node.labels.zone == eu"] }')
  if (placement === undefined) return {}
  checkKeys(placement, PLACEMENT_FIELDS, path, report)
  const written: WrittenPlacement = {}
  const constraints = readConstraints(placement.constraints, join(path, 'constraints'), report)
  if (constraints.length > 0) written.constraints = constraints
  const spreadBy = readPreferences(placement.preferences, join(path, 'preferences'), report)
  if (spreadBy !== undefined) written.spreadBy = spreadBy
  const maxPerNode = readWhole(placement.max_replicas_per_node, join(path, 'max_replicas_per_node'), report, 0, SPEC_LIMITS.maxReplicas)
  if (maxPerNode !== undefined && maxPerNode > 0) written.maxPerNode = maxPerNode
  return written
}

function readConstraints(value: unknown, path: string, report: Report): WrittenConstraint[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) {
    report.error(path, 'expected a list such as ["node.labels.zone == eu", "node.platform.os == linux"]')
    return []
  }
  const constraints: WrittenConstraint[] = []
  value.forEach((entry, i) => {
    const entryPath = item(path, i)
    const text = readString(entry, entryPath, report, 'a constraint such as "node.labels.zone == eu"')
    if (text === undefined) return
    // Swarm tries == before !=, splitting at the first occurrence.
    const op = text.includes('==') ? '==' : text.includes('!=') ? '!=' : undefined
    if (op === undefined) {
      report.error(entryPath, `cannot read ${quoted(text)}: expected "attribute == value" or "attribute != value"`)
      return
    }
    const at = text.indexOf(op)
    const attribute = text.slice(0, at).trim()
    const constraintValue = text.slice(at + op.length).trim()
    if (constraintValue === '') {
      report.error(entryPath, `${quoted(text)} has no value after ${op}`)
      return
    }
    const label = peerLabel(attribute, entryPath, report, 'constraint')
    if (label !== undefined) constraints.push({ label, op, value: constraintValue })
  })
  return constraints
}

function readPreferences(value: unknown, path: string, report: Report): string | undefined {
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) {
    report.error(path, 'expected a list such as [{ spread: node.labels.zone }]')
    return undefined
  }
  let spreadBy: string | undefined
  value.forEach((entry, i) => {
    const entryPath = item(path, i)
    if (!isMap(entry)) {
      report.error(entryPath, 'expected { spread: node.labels.<label> }')
      return
    }
    checkKeys(entry, ['spread'], entryPath, report)
    const descriptor = readString(entry.spread, join(entryPath, 'spread'), report)
    if (descriptor === undefined) return
    const label = peerLabel(descriptor.trim(), join(entryPath, 'spread'), report, 'preference')
    if (label === undefined) return
    if (spreadBy === undefined) spreadBy = label
    else report.warn(entryPath, `ignored: peer spreads by one label, ${spreadBy}`)
  })
  return spreadBy
}

/** The peer label a Swarm node attribute stands for, or undefined (reported or warned) when none does. */
function peerLabel(attribute: string, path: string, report: Report, what: 'constraint' | 'preference'): string | undefined {
  let label: string | undefined
  if (attribute.startsWith('node.labels.')) {
    label = attribute.slice('node.labels.'.length)
  } else if (attribute.startsWith('engine.labels.')) {
    label = attribute.slice('engine.labels.'.length)
    report.warn(path, `engine.labels.${label} read as the peer label ${label}: peer has one set of labels, its agent's (peer agent --labels)`)
  } else if (BUILT_IN[attribute] !== undefined) {
    label = BUILT_IN[attribute]
  } else if (attribute === 'node.role') {
    report.warn(path, `ignored ${what}: peers have no manager or worker role`)
    return undefined
  } else {
    report.error(path, `unknown node attribute ${quoted(attribute)}: expected node.labels.<label>, engine.labels.<label>, node.hostname, node.id, node.platform.os, node.platform.arch or node.role`)
    return undefined
  }
  if (label === undefined || !LABEL_KEY.test(label)) {
    report.error(path, `${quoted(label ?? '')} is not a peer label key: ${LABEL_KEY_RULE}`)
    return undefined
  }
  return label
}
