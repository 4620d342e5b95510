// `klp-lab objtool <actions> [<options>] file.o`: Linux 6.1 objtool's command line, unchanged.
//
// yargs only routes to this command; everything after the word `objtool` goes to objtool's own
// option parser (objtool/options.ts), so `-s`, `--dump=orc`, bundled short actions and
// OBJTOOL_ARGS behave exactly as in the C tool. stdout, stderr and the exit status are the tool's.

import type { CommandModule } from 'yargs';
import { runObjtool } from '../../objtool/objtool';

export const objtoolCommand: CommandModule<object, object> = {
  command: 'objtool',
  describe: 'stack validation and ORC generation as Linux 6.1 objtool (objtool --help for its options)',
  builder: (y) => y.strict(false).help(false),
  handler: () => {
    const argv = process.argv;
    const at = argv.indexOf('objtool', 2);
    const r = runObjtool(argv.slice(at + 1));
    if (r.stdout) process.stdout.write(r.stdout);
    if (r.stderr) process.stderr.write(r.stderr);
    process.exitCode = r.status;
  },
};
