/**
 * A problem with training data the user can fix: a missing, corrupt or
 * inconsistent file. The message always names the file (or directory).
 */
export class DataError extends Error {
  override readonly name = 'DataError';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`);
  }
}
