// `klp-lab livepatch ...`: live patching on the fixture kernel. One module per subcommand in
// cli/commands/livepatch/; `klp-lab livepatch IMAGE PATCH.o` (no subcommand) runs one patch.

import type { CommandModule } from 'yargs';
import { JIT_OPTION, applyJitOption } from '../../emulator/jit/jitDefault';
import { livepatchRunCommand } from './livepatch/run';
import { livepatchScriptCommand } from './livepatch/script';
import { livepatchSelftestCommand } from './livepatch/selftest';
import { livepatchMergeCommand, livepatchStudyCommand } from './livepatch/study';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const subcommands: CommandModule<any, any>[] = [
  livepatchStudyCommand,
  livepatchMergeCommand,
  livepatchScriptCommand,
  livepatchSelftestCommand,
  livepatchRunCommand,
];

export const livepatchCommand: CommandModule = {
  command: 'livepatch',
  describe: 'live-patch the fixture kernel while it runs: one patch with its log and timeline, or a study of many runs',
  builder: (y) => {
    y = y.option('jit', JIT_OPTION).middleware(applyJitOption);
    for (const c of subcommands) y = y.command(c);
    return y.demandCommand(1, 'name a patch: klp-lab livepatch IMAGE PATCH.o (see klp-lab livepatch --help)');
  },
  handler: () => {},
};
