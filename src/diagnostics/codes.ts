// The one catalogue of diagnostic codes. Codes are stable: tests, the JSON
// output and editors key on them. Add new codes, never renumber old ones.
export type Severity = 'error' | 'warning' | 'info';

export interface CodeInfo {
  severity: Severity;
  title: string;
}

export const CODES = {
  // lexical and syntax
  E001: { severity: 'error', title: 'unexpected character' },
  E002: { severity: 'error', title: 'syntax error' },
  E003: { severity: 'error', title: 'not a UTF-8 text file' },
  // names
  E101: { severity: 'error', title: 'unknown layer or block' },
  E102: { severity: 'error', title: 'unknown name' },
  E103: { severity: 'error', title: 'unknown argument' },
  E104: { severity: 'error', title: 'unknown network' },
  E105: { severity: 'error', title: 'network must be chosen' },
  E106: { severity: 'error', title: 'duplicate declaration' },
  E107: { severity: 'error', title: 'argument given twice' },
  E108: { severity: 'error', title: 'too many arguments' },
  E109: { severity: 'error', title: 'missing argument' },
  E110: { severity: 'error', title: 'recursive block' },
  E111: { severity: 'error', title: 'bad --set override' },
  E112: { severity: 'error', title: 'duplicate parameter' },
  E113: { severity: 'error', title: 'missing input' },
  E114: { severity: 'error', title: 'misplaced construct' },
  E115: { severity: 'error', title: 'unknown training setting' },
  E116: { severity: 'error', title: 'positional argument after a named one' },
  E117: { severity: 'error', title: 'cannot import' },
  E118: { severity: 'error', title: 'import cycle' },
  // values and arithmetic
  E201: { severity: 'error', title: 'wrong argument type' },
  E202: { severity: 'error', title: 'argument out of range' },
  E203: { severity: 'error', title: 'not a whole number' },
  E204: { severity: 'error', title: 'division by zero' },
  E205: { severity: 'error', title: 'number too large' },
  // shapes
  // E301 also covers a non-positive output size: with whole strides ≥ 1 the output is
  // positive exactly when the (dilated) kernel fits in the padded input. E302 is retired.
  E301: { severity: 'error', title: 'kernel larger than input' },
  E303: { severity: 'error', title: 'dense needs a vector' },
  E304: { severity: 'error', title: 'channels not divisible by groups' },
  E305: { severity: 'error', title: 'branch shapes disagree' },
  E306: { severity: 'error', title: 'shape assertion failed' },
  E307: { severity: 'error', title: 'wrong input rank' },
  E308: { severity: 'error', title: 'empty branch list' },
  E309: { severity: 'error', title: 'tokens do not fit' },
  // sizes
  E401: { severity: 'error', title: 'tensor too large' },
  E402: { severity: 'error', title: 'too many parameters' },
  E403: { severity: 'error', title: 'nesting too deep' },
  E404: { severity: 'error', title: 'file too large' },
  // warnings
  W501: { severity: 'warning', title: 'unused parameter' },
  W502: { severity: 'warning', title: 'unused block' },
  W503: { severity: 'warning', title: 'padding at least as large as the kernel' },
  W505: { severity: 'warning', title: 'freezes nothing' },
  // W504 (even LRN size) is retired: onnxruntime refuses even sizes, so they are E202.
  // internal
  E900: { severity: 'error', title: 'internal error' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
