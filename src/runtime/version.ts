import { createRequire } from 'node:module';

// Resolved from src/runtime and dist/runtime alike: both sit two levels below the package root.
const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

/** The mia-run package version, reported by the status routes. */
export const VERSION: string = pkg.version;
