#!/usr/bin/env node
// Thin launcher: the built CLI owns argument parsing and the exit code.
import('../dist/cli/main.js').then((cli) => cli.main(process.argv)).catch((err) => {
  console.error('mia-run: cannot load the built CLI (run "npm install" or "npm run build" first).');
  console.error(err);
  process.exitCode = 2;
});
