// Preloaded (--require) by test/cli/lean.test.ts: prints Node's own modules the process loaded, when it exits.
process.on('exit', () => process.stderr.write(`\nBUILTINS ${JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')))}\n`));
