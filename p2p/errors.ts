// Errors a user can fix (a missing or malformed key file, a bad address) are SetupErrors: the message
// names the file or value and what is wrong with it, and is meant to be printed as it is before the
// agent exits — no stack trace. Anything else thrown from p2p/ is a bug or an environment failure.

export type SetupErrorCode =
  | 'no-swarm-key'
  | 'swarm-key-missing'
  | 'swarm-key-unreadable'
  | 'swarm-key-too-open'
  | 'swarm-key-exists'
  | 'swarm-key-invalid'
  | 'identity-unreadable'
  | 'identity-unwritable'
  | 'identity-too-open'
  | 'identity-corrupt'
  | 'bad-seed'
  | 'no-identity'
  | 'bad-address'
  | 'listen-failed'

export class SetupError extends Error {
  override readonly name = 'SetupError'

  constructor(
    readonly code: SetupErrorCode,
    message: string,
  ) {
    super(message)
  }
}
