// Runs `alexnetc train ARGS` through the built command line (for child-process tests: SIGINT, exit codes).
import { main } from '../../../dist/cli/main.js';

main(['train', ...process.argv.slice(2)]).then(
  (code) => { process.exitCode = code; },
  (e) => { process.stderr.write(`uncaught: ${e instanceof Error ? e.message : String(e)}\n`); process.exitCode = 70; },
);
