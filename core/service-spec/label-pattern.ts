// Label patterns: the regular expressions of `matches` constraints, matched in linear time.
//
// Why not RegExp: V8's engine backtracks, so a pattern such as `(a+)+$` against a long label runs for
// seconds or forever, and every peer evaluates every constraint against its own labels — one hostile
// spec would hang the whole cluster. Here a pattern is parsed into a Thompson NFA and matched by
// simulating the NFA over a set of states (a Pike VM without captures): each character of the label
// advances every live state once, so a test costs at most O(program size × label length) and never
// backtracks. Nothing here reads a clock or the environment, so every peer computes the same answer.
//
// The subset; everything else is refused with a sentence, never read differently from RegExp:
//   abc                  literal characters (any character that is not syntax, non-ASCII included)
//   .                    any character except a line terminator (\n, \r, \u2028, \u2029)
//   \. \\ \- \/ \( …     an escaped ASCII punctuation character (or space) stands for itself
//   \d \w \s \D \W \S    digit, word character [A-Za-z0-9_], whitespace, and their complements
//   [a-z0-9_-] [^…]      classes and negated classes: characters, ranges, the escapes above; `-` is
//                        literal where it cannot make a range (first, last, right after a range)
//   ^ $                  start and end of the label: `^` first in the pattern or in an alternative,
//                        `$` last in one
//   ( … ) (?: … )        groups; nothing is captured, so both forms only group
//   a|b                  alternation
//   * + ? {m} {m,} {m,n} repetition, with m ≤ n ≤ 100
// Refused: backreferences and octal escapes (\1, \k<name>), lookaround ((?=…) (?!…) (?<=…) (?<!…)),
// named groups, inline flags, lazy quantifiers (*? +? ?? {m,n}?), word boundaries (\b \B), Unicode
// property escapes (\p{…}), control, hex and Unicode escapes (\cX \xHH \uHHHH), other letter escapes,
// unescaped `]`, `{` and `}` outside a repetition, patterns longer than 256 characters, and patterns
// whose NFA would have more than 1,000 states (repetition copies its operand).
//
// Meaning: for every accepted pattern p and string s, `compileLabelPattern(p).pattern.test(s)` equals
// `new RegExp(p).test(s)` — no flags, a search anywhere in s unless anchored, over UTF-16 code units.

/** Bounds that keep both compiling and matching cheap, whatever a spec holds. */
export const LABEL_PATTERN_LIMITS = {
  /** Longest pattern source. */
  sourceLength: 256,
  /** Largest m or n in {m}, {m,} and {m,n}. */
  repeat: 100,
  /** Most NFA states after repetition is expanded; matching costs at most this × label length steps. */
  states: 1000,
} as const

export interface LabelPattern {
  readonly source: string
  /** NFA states after repetition is expanded; a test costs at most this many steps per character. */
  readonly stateCount: number
  /** Whether the pattern occurs in the value, as `new RegExp(source).test(value)`. */
  test(value: string): boolean
}

export type LabelPatternResult = { ok: true; pattern: LabelPattern } | { ok: false; error: string }

export function compileLabelPattern(source: string): LabelPatternResult {
  if (source.length > LABEL_PATTERN_LIMITS.sourceLength) {
    return { ok: false, error: `patterns are at most ${LABEL_PATTERN_LIMITS.sourceLength} characters; this one has ${source.length}` }
  }
  const tree = new Parser(source).parse()
  if (typeof tree === 'string') return { ok: false, error: tree }
  // +1 for the final match state.
  if (stateCount(tree) + 1 > LABEL_PATTERN_LIMITS.states) {
    return { ok: false, error: `the pattern expands to more than ${LABEL_PATTERN_LIMITS.states} states; use smaller repetition counts` }
  }
  return { ok: true, pattern: new Program(source, tree) }
}

// --- character sets ------------------------------------------------------------------------------

/** Sorted, disjoint, non-adjacent inclusive ranges of UTF-16 code units: [lo0, hi0, lo1, hi1, …]. */
type Ranges = readonly number[]

const LAST_CODE_UNIT = 0xffff
const DIGIT: Ranges = [0x30, 0x39]
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a]
/** RegExp's \s: WhiteSpace and LineTerminator of ECMA-262. */
const SPACE: Ranges = [
  0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a,
  0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff,
]
const LINE_TERMINATOR: Ranges = [0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029]
const DOT = complement(LINE_TERMINATOR)

const CLASS_ESCAPES: Readonly<Record<string, Ranges>> = {
  d: DIGIT, D: complement(DIGIT), w: WORD, W: complement(WORD), s: SPACE, S: complement(SPACE),
}

function union(parts: readonly Ranges[]): Ranges {
  const pairs: Array<[number, number]> = []
  for (const part of parts) for (let i = 0; i < part.length; i += 2) pairs.push([part[i]!, part[i + 1]!])
  pairs.sort((a, b) => a[0] - b[0])
  const out: number[] = []
  for (const [lo, hi] of pairs) {
    if (out.length > 0 && lo <= out[out.length - 1]! + 1) out[out.length - 1] = Math.max(out[out.length - 1]!, hi)
    else out.push(lo, hi)
  }
  return out
}

function complement(ranges: Ranges): Ranges {
  const out: number[] = []
  let next = 0
  for (let i = 0; i < ranges.length; i += 2) {
    if (ranges[i]! > next) out.push(next, ranges[i]! - 1)
    next = ranges[i + 1]! + 1
  }
  if (next <= LAST_CODE_UNIT) out.push(next, LAST_CODE_UNIT)
  return out
}

function contains(ranges: Ranges, unit: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) {
    if (unit < ranges[i]!) return false
    if (unit <= ranges[i + 1]!) return true
  }
  return false
}

// --- parsing ---------------------------------------------------------------------------------------

type Node =
  | { readonly kind: 'chars'; readonly ranges: Ranges }
  | { readonly kind: 'assert'; readonly at: 'start' | 'end' }
  | { readonly kind: 'sequence'; readonly items: readonly Node[] }
  | { readonly kind: 'choice'; readonly options: readonly Node[] }
  /** `max` is Infinity for {m,}, * and +. */
  | { readonly kind: 'repeat'; readonly body: Node; readonly min: number; readonly max: number }

/** One element of a character class: its code units, and the single one when it can end a range. */
interface ClassAtom {
  readonly ranges: Ranges
  readonly unit: number | undefined
}

const REPETITION = /^\{(\d+)(,(\d*))?\}/

/** Recursive descent over code units; every method returns what it read, or the sentence refusing it. */
class Parser {
  private at = 0

  constructor(private readonly source: string) {}

  parse(): Node | string {
    const tree = this.choice()
    if (typeof tree === 'string') return tree
    // choice() stops only at the end or at a ")" that no group opened.
    if (this.at < this.source.length) return this.refuse('unmatched ")"; write \\) for a literal ")"')
    return tree
  }

  private peek(offset = 0): string | undefined {
    return this.source[this.at + offset]
  }

  private refuse(message: string): string {
    return `${message} (at character ${this.at + 1})`
  }

  private choice(): Node | string {
    const options: Node[] = []
    for (;;) {
      const option = this.sequence()
      if (typeof option === 'string') return option
      options.push(option)
      if (this.peek() !== '|') break
      this.at++
    }
    return options.length === 1 ? options[0]! : { kind: 'choice', options }
  }

  private sequence(): Node | string {
    const items: Node[] = []
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      if (c === '^') {
        if (items.length > 0) return this.refuse('"^" may only start the pattern or an alternative; write \\^ for a literal "^"')
        this.at++
        items.push({ kind: 'assert', at: 'start' })
        continue
      }
      if (c === '$') {
        this.at++
        const after = this.peek()
        if (after !== undefined && after !== '|' && after !== ')') {
          this.at--
          return this.refuse('"$" may only end the pattern or an alternative; write \\$ for a literal "$"')
        }
        items.push({ kind: 'assert', at: 'end' })
        continue
      }
      const atom = this.atom()
      if (typeof atom === 'string') return atom
      const repeated = this.repetition(atom)
      if (typeof repeated === 'string') return repeated
      items.push(repeated)
    }
    return items.length === 1 ? items[0]! : { kind: 'sequence', items }
  }

  private atom(): Node | string {
    const c = this.peek()!
    switch (c) {
      case '(':
        return this.group()
      case '[':
        return this.characterClass()
      case '.':
        this.at++
        return { kind: 'chars', ranges: DOT }
      case '\\': {
        const escaped = this.escape(false)
        return typeof escaped === 'string' ? escaped : { kind: 'chars', ranges: escaped.ranges }
      }
      case '*':
      case '+':
      case '?':
      case '{':
        return this.refuse(`nothing to repeat before "${c}"; write \\${c} for a literal "${c}"`)
      case ']':
      case '}':
        return this.refuse(`write \\${c} for a literal "${c}"`)
      default: {
        this.at++
        const unit = c.charCodeAt(0)
        return { kind: 'chars', ranges: [unit, unit] }
      }
    }
  }

  private group(): Node | string {
    if (this.peek(1) === '?') {
      if (this.peek(2) !== ':') return this.refuse(groupRefusal(this.source.slice(this.at, this.at + 4)))
      this.at += 2
    }
    this.at++
    const inner = this.choice()
    if (typeof inner === 'string') return inner
    if (this.peek() !== ')') return this.refuse('a group is not closed: missing ")"')
    this.at++
    return inner
  }

  /** After "\": a class escape or escaped punctuation; inside a class \b would mean backspace. */
  private escape(inClass: boolean): ClassAtom | string {
    const c = this.peek(1)
    if (c === undefined) return this.refuse('the pattern ends with a lone "\\"')
    const ranges = CLASS_ESCAPES[c]
    if (ranges !== undefined) {
      this.at += 2
      return { ranges, unit: undefined }
    }
    const unit = c.charCodeAt(0)
    if (unit >= 0x20 && unit <= 0x7e && !/[A-Za-z0-9]/.test(c)) {
      this.at += 2
      return { ranges: [unit, unit], unit }
    }
    return this.refuse(escapeRefusal(c, inClass))
  }

  private characterClass(): Node | string {
    this.at++
    const negated = this.peek() === '^'
    if (negated) this.at++
    const parts: Ranges[] = []
    for (;;) {
      const c = this.peek()
      if (c === undefined) return this.refuse('a character class is not closed: missing "]"')
      if (c === ']') break
      const first = this.classAtom()
      if (typeof first === 'string') return first
      // As in RegExp, "-" makes a range only between two atoms; before "]" it is itself.
      if (this.peek() !== '-' || this.peek(1) === ']' || this.peek(1) === undefined) {
        parts.push(first.ranges)
        continue
      }
      this.at++
      const last = this.classAtom()
      if (typeof last === 'string') return last
      if (first.unit === undefined || last.unit === undefined) {
        return this.refuse('a range in a class needs one character at each end; write \\- for a literal "-"')
      }
      if (first.unit > last.unit) {
        return this.refuse(`the range ${String.fromCharCode(first.unit)}-${String.fromCharCode(last.unit)} in a class is out of order`)
      }
      parts.push([first.unit, last.unit])
    }
    this.at++
    const ranges = union(parts)
    return { kind: 'chars', ranges: negated ? complement(ranges) : ranges }
  }

  private classAtom(): ClassAtom | string {
    const c = this.peek()!
    if (c === '\\') return this.escape(true)
    this.at++
    const unit = c.charCodeAt(0)
    return { ranges: [unit, unit], unit }
  }

  /** A quantifier after `body`, if there is one. */
  private repetition(body: Node): Node | string {
    let min: number
    let max: number
    const c = this.peek()
    if (c === '*' || c === '+' || c === '?') {
      this.at++
      min = c === '+' ? 1 : 0
      max = c === '?' ? 1 : Infinity
    } else if (c === '{') {
      const bounds = REPETITION.exec(this.source.slice(this.at))
      if (bounds === null) return this.refuse('"{" starts a repetition {m}, {m,} or {m,n}; write \\{ for a literal "{"')
      min = Number(bounds[1])
      max = bounds[2] === undefined ? min : bounds[3] === '' ? Infinity : Number(bounds[3])
      if (min > LABEL_PATTERN_LIMITS.repeat || (max !== Infinity && max > LABEL_PATTERN_LIMITS.repeat)) {
        return this.refuse(`repetition counts are at most ${LABEL_PATTERN_LIMITS.repeat}`)
      }
      if (min > max) return this.refuse(`the repetition ${bounds[0]} is out of order`)
      this.at += bounds[0].length
    } else {
      return body
    }
    const after = this.peek()
    if (after === '?') return this.refuse('lazy quantifiers ("*?", "+?", "??", "{m,n}?") are not supported; they would not change which labels match')
    if (after === '*' || after === '+' || after === '{') return this.refuse(`nothing to repeat before "${after}"; a repetition cannot be repeated without a group`)
    return { kind: 'repeat', body, min, max }
  }
}

function groupRefusal(opening: string): string {
  if (opening.startsWith('(?=') || opening.startsWith('(?!')) return `lookahead ${opening.slice(0, 3)}…) is not supported`
  if (opening.startsWith('(?<=') || opening.startsWith('(?<!')) return `lookbehind ${opening}…) is not supported`
  if (opening.startsWith('(?<')) return 'named groups (?<name>…) are not supported; use (…) or (?:…)'
  return 'inline flags and other (?… groups are not supported; only (…) and (?:…) group'
}

function escapeRefusal(c: string, inClass: boolean): string {
  if (/[0-9]/.test(c)) return `backreferences and octal escapes such as \\${c} are not supported`
  if (c === 'k') return 'named backreferences \\k<name> are not supported'
  if ((c === 'b' || c === 'B') && !inClass) return `word boundaries \\${c} are not supported; use ^, $ or a class such as [^a-z]`
  if (c === 'p' || c === 'P') return `Unicode property escapes \\${c}{…} are not supported`
  return `the escape \\${c} is not supported: escape only ASCII punctuation, or use \\d \\w \\s \\D \\W \\S`
}

// --- the NFA -------------------------------------------------------------------------------------

/** NFA states; `split` and `assert` are followed without reading, `chars` reads one code unit. */
type State =
  | { op: 'chars'; ranges: Ranges; next: number }
  | { op: 'split'; next: number; alt: number }
  | { op: 'assert'; at: 'start' | 'end'; next: number }
  | { op: 'match' }

/** The states `emit` will create for a node, saturating just past the limit so nesting cannot overflow. */
function stateCount(node: Node): number {
  const cap = (n: number) => Math.min(n, LABEL_PATTERN_LIMITS.states + 1)
  switch (node.kind) {
    case 'chars':
    case 'assert':
      return 1
    case 'sequence':
      return node.items.reduce((sum, item) => cap(sum + stateCount(item)), 0)
    case 'choice':
      return node.options.reduce((sum, option) => cap(sum + stateCount(option) + 1), -1)
    case 'repeat': {
      const body = stateCount(node.body)
      const optional = node.max === Infinity ? body + 1 : (node.max - node.min) * (body + 1)
      return cap(node.min * body + optional)
    }
  }
}

/**
 * Appends the states for `node`, which continue at `next`, and returns the state to enter it by.
 * Built back to front, so every successor already exists except a loop's own split.
 */
function emit(node: Node, next: number, states: State[]): number {
  switch (node.kind) {
    case 'chars':
      return states.push({ op: 'chars', ranges: node.ranges, next }) - 1
    case 'assert':
      return states.push({ op: 'assert', at: node.at, next }) - 1
    case 'sequence': {
      let entry = next
      for (let i = node.items.length - 1; i >= 0; i--) entry = emit(node.items[i]!, entry, states)
      return entry
    }
    case 'choice': {
      let entry = emit(node.options[node.options.length - 1]!, next, states)
      for (let i = node.options.length - 2; i >= 0; i--) {
        entry = states.push({ op: 'split', next: emit(node.options[i]!, next, states), alt: entry }) - 1
      }
      return entry
    }
    case 'repeat': {
      let entry = next
      if (node.max === Infinity) {
        const loop: State = { op: 'split', next: -1, alt: next }
        entry = states.push(loop) - 1
        loop.next = emit(node.body, entry, states)
      } else {
        // e{m,n} is m copies of e, then n − m optional ones: e?e?… accepts what e{0,k} accepts.
        for (let k = node.min; k < node.max; k++) entry = states.push({ op: 'split', next: emit(node.body, entry, states), alt: entry }) - 1
      }
      for (let k = 0; k < node.min; k++) entry = emit(node.body, entry, states)
      return entry
    }
  }
}

// The program as flat arrays, indexed by state: the matching loop then allocates nothing.
const CHARS = 0
const SPLIT = 1
const AT_START = 2
const AT_END = 3
const MATCH = 4

/** What `enter` returns instead of a set size once the match state is reached. */
const MATCHED = -1

class Program implements LabelPattern {
  readonly stateCount: number
  private readonly start: number
  private readonly op: Uint8Array
  private readonly next: Int32Array
  private readonly alt: Int32Array
  private readonly ranges: ReadonlyArray<Ranges | undefined>
  // Scratch space, reused: a test runs to completion before another can begin.
  /** marks[s] = position + 1 once s is in that position's set: a state joins a set at most once,
   * which is what bounds the work per character by the number of states. */
  private readonly marks: Int32Array
  private readonly pending: Int32Array
  private current: Int32Array
  private following: Int32Array

  constructor(readonly source: string, tree: Node) {
    const states: State[] = [{ op: 'match' }]
    this.start = emit(tree, 0, states)
    const count = (this.stateCount = states.length)
    this.op = new Uint8Array(count)
    this.next = new Int32Array(count)
    this.alt = new Int32Array(count)
    this.ranges = states.map((state) => (state.op === 'chars' ? state.ranges : undefined))
    states.forEach((state, s) => {
      if (state.op === 'match') return void (this.op[s] = MATCH)
      this.next[s] = state.next
      if (state.op === 'chars') this.op[s] = CHARS
      else if (state.op === 'split') (this.op[s] = SPLIT), (this.alt[s] = state.alt)
      else this.op[s] = state.at === 'start' ? AT_START : AT_END
    })
    this.marks = new Int32Array(count)
    this.pending = new Int32Array(count)
    this.current = new Int32Array(count)
    this.following = new Int32Array(count)
  }

  test(value: string): boolean {
    this.marks.fill(0)
    let size = 0
    for (let position = 0; ; position++) {
      // RegExp.test searches: a match may begin at any position, so a fresh thread joins at each one.
      size = this.enter(this.start, position, value.length, this.current, size)
      if (size === MATCHED) return true
      if (position === value.length) return false
      const unit = value.charCodeAt(position)
      let followingSize = 0
      for (let i = 0; i < size; i++) {
        const s = this.current[i]!
        if (!contains(this.ranges[s]!, unit)) continue
        followingSize = this.enter(this.next[s]!, position + 1, value.length, this.following, followingSize)
        if (followingSize === MATCHED) return true
      }
      const filled = this.following
      this.following = this.current
      this.current = filled
      size = followingSize
    }
  }

  /** Adds `entry`, and every state reachable from it without reading, to the set for `position`. */
  private enter(entry: number, position: number, length: number, set: Int32Array, size: number): number {
    const { op, next, alt, marks, pending } = this
    const mark = position + 1
    if (marks[entry] === mark) return size
    marks[entry] = mark
    pending[0] = entry
    let top = 1
    while (top > 0) {
      const s = pending[--top]!
      let follow = -1
      switch (op[s]) {
        case MATCH:
          return MATCHED
        case CHARS:
          set[size++] = s
          continue
        case SPLIT:
          if (marks[alt[s]!] !== mark) (marks[alt[s]!] = mark), (pending[top++] = alt[s]!)
          follow = next[s]!
          break
        case AT_START:
          if (position === 0) follow = next[s]!
          break
        case AT_END:
          if (position === length) follow = next[s]!
          break
      }
      if (follow >= 0 && marks[follow] !== mark) (marks[follow] = mark), (pending[top++] = follow)
    }
    return size
  }
}
