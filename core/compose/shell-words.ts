// Splitting a command written as one string into arguments, as `docker stack deploy` does (Google's
// shlex): spaces separate words; single quotes keep everything literally; double quotes keep spaces
// and a backslash in them escapes the next character; a backslash outside quotes escapes the next
// character; a `#` at the start of a word comments out the rest. Nothing is expanded: no variables
// (compose already substituted them), globs or command substitution.

export type ShellWords = { ok: true; words: string[] } | { ok: false; error: string }

const SPACE = /^[ \t\r\n]$/

export function shellWords(text: string): ShellWords {
  const words: string[] = []
  let word = ''
  let inWord = false
  let i = 0
  const length = text.length
  while (i < length) {
    const character = text[i]!
    if (SPACE.test(character)) {
      if (inWord) words.push(word)
      word = ''
      inWord = false
      i++
    } else if (character === '#' && !inWord) {
      const end = text.indexOf('\n', i)
      if (end < 0) break
      i = end
    } else if (character === '\\') {
      if (i + 1 >= length) return { ok: false, error: 'ends with a backslash that escapes nothing' }
      word += text[i + 1]
      inWord = true
      i += 2
    } else if (character === "'") {
      const end = text.indexOf("'", i + 1)
      if (end < 0) return { ok: false, error: 'a single quote is not closed' }
      word += text.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (character === '"') {
      i++
      for (;;) {
        if (i >= length) return { ok: false, error: 'a double quote is not closed' }
        const inner = text[i]!
        if (inner === '"') break
        if (inner === '\\') {
          if (i + 1 >= length) return { ok: false, error: 'a double quote is not closed' }
          word += text[i + 1]
          i += 2
          continue
        }
        word += inner
        i++
      }
      inWord = true
      i++
    } else {
      word += character
      inWord = true
      i++
    }
  }
  if (inWord) words.push(word)
  return { ok: true, words }
}
