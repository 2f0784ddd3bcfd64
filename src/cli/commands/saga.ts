/**
 * `mia-run saga graph <project.yaml> <saga>`: print a saga's state machine as a Mermaid state diagram
 * (paste it in a Markdown file, GitHub renders it). The descriptor goes through the same pipeline as
 * `validate`; an invalid one prints its diagnostics and exits 1, an unknown saga name too.
 */
import type { Action, CliCommand } from '../command.js';

const graphAction: Action = async ({ args, io }) => {
  const [file, name] = args as [string, string];
  const [{ loadProject }, { formatReports }, { sagaToMermaid }, { didYouMean }] = await Promise.all([
    import('../../config/load-project.js'),
    import('../format/index.js'),
    import('../../saga/graph.js'),
    import('../../config/diagnostics.js'),
  ]);
  const { config, diagnostics } = await loadProject(file, { env: io.env, cwd: io.cwd });
  if (config === undefined) {
    io.stderr(formatReports([{ file, diagnostics }], 'text'));
    return 1;
  }
  const saga = config.sagas[name];
  if (saga === undefined) {
    const names = Object.keys(config.sagas);
    io.stderr(`mia-run: "${name}" is not a saga of ${file}${didYouMean(name, names)}${names.length > 0 ? ` (sagas: ${names.join(', ')})` : ' (it declares no sagas)'}\n`);
    return 1;
  }
  io.stdout(sagaToMermaid(name, saga));
  return 0;
};

export const sagaCommand: CliCommand = {
  declare: (program, bind) => {
    const saga = program.command('saga').description('work with the sagas of a descriptor');
    bind(
      saga.command('graph').description('print a saga state machine as a Mermaid diagram').argument('<project>', 'project descriptor (project.yaml)').argument('<saga>', 'saga name'),
      async () => graphAction,
    );
  },
};
