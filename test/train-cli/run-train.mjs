// Runs `alexnetc train ARGS` through the built trainCommand (for child-process tests: SIGINT, exit codes).
import { trainCommand } from '../../dist/train/cli.js';

trainCommand(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => { process.stderr.write(`uncaught: ${e instanceof Error ? e.message : String(e)}\n`); process.exitCode = 70; },
);
