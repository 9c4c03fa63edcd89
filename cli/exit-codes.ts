// Exit codes shared by every command, following `nomad job plan`: 1 means "valid, but not everything
// can be placed", 2 means "the input itself is wrong".
export const EXIT_OK = 0
export const EXIT_UNPLACEABLE = 1
export const EXIT_INVALID_INPUT = 2

/** An error the user can fix: printed as one line, no stack, with its exit code. */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = EXIT_INVALID_INPUT) {
    super(message)
  }
}
