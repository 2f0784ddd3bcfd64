import { readFile } from 'node:fs/promises';
import type { Action } from '../command.js';

// Resolved from src/cli/commands and dist/cli/commands alike: three levels below the package root.
const SCHEMA = new URL('../../../schemas/project.schema.json', import.meta.url);

export const schemaAction: Action = async ({ io }) => {
  io.stdout(await readFile(SCHEMA, 'utf8'));
  return 0;
};
