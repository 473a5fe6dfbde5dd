/** Settings a network's `train { … }` section may hold (see the language reference). */
export const TRAIN_KEYS: readonly string[] = [
  'optimizer',
  'lr',
  'momentum',
  'weight_decay',
  'batch',
  'epochs',
  'loss',
  'schedule',
  'val_split',
  'seed',
  'augment',
  'normalize',
];
