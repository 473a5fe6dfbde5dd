// The names of the `train { … }` settings, for code that needs only those
// (tune's --grid): derived from the one table in train-settings.ts.
import { TRAIN_SETTINGS } from './train-settings.js';

export const TRAIN_KEYS: readonly string[] = TRAIN_SETTINGS.map((s) => s.name);
