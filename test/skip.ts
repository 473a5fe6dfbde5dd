// Every skipped test says why (README: "they skip with a visible message").
// `it.skipIf(skipping(title, why))` prints `SKIPPED title: why` when `why`
// is set, and skips; test/docs/skips.test.ts fails on a skipIf in test/ whose
// file prints nothing.

/** Print why a test is skipped (when it is) and return whether it is. */
export function skipping(title: string, why: string | false | undefined): boolean {
  if (why) console.warn(`SKIPPED ${title}: ${why}`);
  return Boolean(why);
}

/** the reason for a test that needs ALEXNETC_BIG_TESTS, or undefined when it is set */
export const NEEDS_BIG = process.env.ALEXNETC_BIG_TESTS === '1' ? undefined : 'a big test: set ALEXNETC_BIG_TESTS=1 (CI does)';
