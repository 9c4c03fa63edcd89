// One line saying what went wrong, whatever was thrown. libp2p rejects some operations with DOM-style
// Events rather than Errors (a stream's abort or close), which String() prints as "[object Event]".

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message
  if (typeof Event !== 'undefined' && error instanceof Event) {
    const inner = (error as Event & { error?: unknown }).error
    return inner === undefined ? `${error.type} event` : `${error.type} event: ${messageOf(inner)}`
  }
  return String(error)
}

/** How much of a long value an error message shows: enough to recognise it, never a whole 100 KB value. */
const SHOWN_CHARACTERS = 40

/**
 * A value as an error message shows it: JSON-quoted, and when long only its start and its length.
 * Control characters (C0, DEL, C1) and the Unicode line separators are escaped too, so what a person
 * wrote can neither break the message's line nor drive the terminal.
 */
export function quoted(text: string): string {
  const shown = text.length <= SHOWN_CHARACTERS ? JSON.stringify(text) : `${JSON.stringify(text.slice(0, SHOWN_CHARACTERS))}… (${text.length} characters)`
  return shown.replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
