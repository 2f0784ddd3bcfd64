// The CLI from sources (no build needed), for scripts the Fast Data example test runs: `node --import tsx fastdata-cli.ts <args>`.
import { main } from '../../src/cli/main.js';

await main(process.argv);
