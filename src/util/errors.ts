// The one kind of failure a user can fix. Whatever throws it (a command, the
// trainer, a weights reader), the command line prints its message as one line,
// without a stack, and exits with its code: 1 for input that is wrong (a file,
// data, weights), 2 for usage (a flag or a setting).
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
