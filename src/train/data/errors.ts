/**
 * A problem with training data the user can fix: a missing, corrupt or
 * inconsistent file. The message always names the file (or directory).
 */
import { UserError } from '../../util/errors.js';

export class DataError extends UserError {
  override readonly name = 'DataError';
  constructor(readonly file: string, detail: string) {
    super(`${file}: ${detail}`, 1);
  }
}
