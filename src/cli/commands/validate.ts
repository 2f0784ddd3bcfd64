/** `mia-run validate <file...> [--format text|json|github]`: check descriptors without touching a backend. */
import { Option } from 'commander';
import type { CliCommand } from '../command.js';
import { FORMATS } from '../format/names.js';

export const validateCommand: CliCommand = {
  declare: (program, bind) =>
    bind(
      program
        .command('validate')
        .description('check descriptors and list every problem (exit 0 valid, 1 invalid); never connects to a backend')
        .argument('<file...>', 'project descriptors')
        .addOption(new Option('--format <format>', 'output format').choices(FORMATS).default('text')),
      () => import('./validate-action.js').then((m) => m.validateAction),
    ),
};
