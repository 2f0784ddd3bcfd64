/** `mia-run schema`: print the descriptor JSON Schema (the package also exports it as `mia-run/schema.json`). */
import type { CliCommand } from '../command.js';

export const schemaCommand: CliCommand = {
  declare: (program, bind) =>
    bind(
      program.command('schema').description('print the JSON Schema of project descriptors (for editors and CI)'),
      () => import('./schema-action.js').then((m) => m.schemaAction),
    ),
};
