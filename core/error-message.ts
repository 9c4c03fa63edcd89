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
