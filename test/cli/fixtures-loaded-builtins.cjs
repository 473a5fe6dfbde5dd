// Preloaded (--require) by test/cli/lean.test.ts and start.test.ts: prints Node's own modules the process loaded, when
// it exits (written to the file descriptor of stdout, so that printing them loads no stream).
process.on('exit', () => require('node:fs').writeSync(1, `\nBUILTINS ${JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')))}\n`));
