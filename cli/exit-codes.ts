// Exit codes shared by every command, following `nomad job plan`: 1 means "the request was valid, but
// it could not be done" (not everything can be placed, something is pending, no agent answered, the
// agent refused), 2 means "the input itself is wrong".
export const EXIT_OK = 0
/** `peer plan` / `peer why`: valid, but some slots cannot be placed. Same value as EXIT_FAILURE. */
export const EXIT_UNPLACEABLE = 1
/** Valid request that could not be done: no agent on the socket, the agent refused, a start failed. */
export const EXIT_FAILURE = 1
export const EXIT_INVALID_INPUT = 2

/**
 * An error the user can fix: printed as one line per problem, no stack, with its exit code. `cause`
 * keeps what it was made from (the agent's refusal, say) for callers that say it better.
 */
export class UsageError extends Error {
  constructor(message: string, readonly exitCode = EXIT_INVALID_INPUT, options?: ErrorOptions) {
    super(message, options)
  }
}
