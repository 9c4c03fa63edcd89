// Label constraints: parsing the written forms and evaluating them against a peer's labels.

import { compileLabelPattern, type LabelPattern } from './label-pattern.js'
import type { Constraint, ConstraintOp } from './types.js'
import { quoted } from '../error-message.js'
import { LABEL_KEY, SPEC_LIMITS } from './limits.js'

/**
 * Parses the string form users write, Swarm-style:
 *   `zone == eu-1`, `arch != arm64`, `zone in (a, b)`, `zone notin (c)`, `gpu exists`, `host matches ^edge-`
 * Returns the constraint, or a sentence saying what is wrong.
 */
export function parseConstraint(text: string): Constraint | string {
  const trimmed = text.trim()
  const exists = /^(\S+)\s+exists$/.exec(trimmed)
  if (exists) return checked(exists[1]!, 'exists', [])
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(trimmed)
  if (set) {
    const values = set[3]!.split(',').map((v) => v.trim()).filter((v) => v.length > 0)
    return checked(set[1]!, set[2] as ConstraintOp, values)
  }
  const binary = /^(\S+?)\s*(==|!=|\s+matches\s+)\s*(.+)$/.exec(trimmed)
  if (binary) {
    const op = binary[2]!.trim() as ConstraintOp
    return checked(binary[1]!, op, [binary[3]!.trim()])
  }
  return `cannot parse constraint ${quoted(text)}: expected "label == value", "label != value", "label in (a, b)", "label notin (a, b)", "label exists" or "label matches regex"`
}

/** Validates an already-structured constraint; returns it, or a sentence saying what is wrong. */
export function checked(label: string, op: ConstraintOp, values: readonly string[]): Constraint | string {
  if (!LABEL_KEY.test(label)) return `label key ${quoted(label)} is not a valid label name`
  if (values.length > SPEC_LIMITS.maxConstraintValues) return `at most ${SPEC_LIMITS.maxConstraintValues} values`
  const long = values.find((value) => value.length > SPEC_LIMITS.maxConstraintValueLength)
  if (long !== undefined) return `values are at most ${SPEC_LIMITS.maxConstraintValueLength} characters, as peers' label values are; not ${quoted(long)}`
  switch (op) {
    case 'exists':
      if (values.length !== 0) return `"exists" takes no value`
      break
    case '==':
    case '!=':
      if (values.length !== 1 || values[0] === '') return `"${op}" needs exactly one value`
      break
    case 'matches': {
      if (values.length !== 1 || values[0] === '') return `"matches" needs exactly one regular expression`
      const compiled = compileLabelPattern(values[0]!)
      if (!compiled.ok) return `invalid regular expression ${JSON.stringify(values[0])}: ${compiled.error}`
      break
    }
    case 'in':
    case 'notin':
      if (values.length === 0) return `"${op}" needs at least one value`
      break
  }
  return { label, op, values: [...values] }
}

/** Human-readable form, the inverse of parseConstraint; used in reasons and `peer why`. */
export function formatConstraint(constraint: Constraint): string {
  switch (constraint.op) {
    case 'exists':
      return `${constraint.label} exists`
    case 'in':
    case 'notin':
      return `${constraint.label} ${constraint.op} (${constraint.values.join(', ')})`
    case 'matches':
      return `${constraint.label} matches ${constraint.values[0]}`
    default:
      return `${constraint.label} ${constraint.op} ${constraint.values[0]}`
  }
}

/** A constraint ready to evaluate quickly: label patterns compiled once per service. */
export interface CompiledConstraint {
  readonly constraint: Constraint
  readonly test: (labels: Readonly<Record<string, string>>) => boolean
}

export function compileConstraint(constraint: Constraint): CompiledConstraint {
  const { label, op, values } = constraint
  let test: CompiledConstraint['test']
  switch (op) {
    case 'exists':
      test = (labels) => Object.hasOwn(labels, label)
      break
    case '==':
      test = (labels) => labels[label] === values[0]
      break
    case '!=':
      // A missing label is "not equal": `arch != arm64` holds on a peer with no arch label.
      test = (labels) => labels[label] !== values[0]
      break
    case 'in': {
      const allowed = new Set(values)
      test = (labels) => Object.hasOwn(labels, label) && allowed.has(labels[label]!)
      break
    }
    case 'notin': {
      const denied = new Set(values)
      test = (labels) => !Object.hasOwn(labels, label) || !denied.has(labels[label]!)
      break
    }
    case 'matches': {
      const compiled = compileLabelPattern(values[0]!)
      // checked() refuses a pattern that does not compile, so only a constraint built by hand gets here
      // without one; it matches no peer, the same answer on every peer.
      const matchesValue = compiled.ok ? remembered(compiled.pattern) : () => false
      test = (labels) => Object.hasOwn(labels, label) && matchesValue(labels[label]!)
      break
    }
  }
  return { constraint, test }
}

/** Distinct label values remembered per pattern; past this the memory starts over. */
const REMEMBERED_VALUES = 1024

/**
 * A pattern's answers, remembered by label value. A match is linear but can still cost thousands of
 * steps per character for a large pattern, and placement asks again for the same few values (zone,
 * arch, host names) on every pass; the answer depends on the value alone, so remembering it is exact.
 */
function remembered(pattern: LabelPattern): (value: string) => boolean {
  const answers = new Map<string, boolean>()
  return (value) => {
    let answer = answers.get(value)
    if (answer === undefined) {
      if (answers.size >= REMEMBERED_VALUES) answers.clear()
      answer = pattern.test(value)
      answers.set(value, answer)
    }
    return answer
  }
}
