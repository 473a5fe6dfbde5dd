// `process` in the page (the bundler injects it where a module uses the
// global): no environment, no Node version, and handlers that never fire —
// the page's modules register exit handlers for temporary files it never makes.
const noop = (): void => {};
export const process = {
  env: {} as Record<string, string | undefined>,
  versions: {} as Record<string, string | undefined>,
  platform: 'browser',
  argv: [] as string[],
  exitCode: undefined as number | undefined,
  on: noop,
  once: noop,
  off: noop,
  removeListener: noop,
  emitWarning: noop,
  cwd: (): string => '/',
  stderr: { write: (s: string): boolean => (console.warn(s), true), isTTY: false },
  stdout: { write: (s: string): boolean => (console.log(s), true), isTTY: false },
};
