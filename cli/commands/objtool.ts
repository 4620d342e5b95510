// `klp-lab objtool <actions> [<options>] FILE|DIR ...`: Linux 6.1 objtool's command line, plus
// several objects in one process.
//
// yargs only routes to this command; everything after the word `objtool` goes to objtool's own
// option parser (objtool/options.ts), so `-s`, `--dump=orc`, bundled short actions and
// OBJTOOL_ARGS behave exactly as in the C tool. With one file and none of klp-lab's own options
// this is one objtool run: stdout, stderr and the exit status are the tool's. With several
// files, a directory, or `--jobs`, `--summary` or `--json`, each file is run as objtool would
// run it alone (objtool/batch/).

import type { CommandModule } from 'yargs';
import * as fs from 'fs';
import * as path from 'path';
import { runObjtool } from '../../objtool/objtool';
import { parseObjtoolArgsMany } from '../../objtool/options';
import { defaultJobs, runObjtoolBatch, type BatchSettings } from '../../objtool/batch/runBatch';
import { UserError } from '../userError';

/** klp-lab's options (not objtool's), taken out of the argument list before objtool parses it. */
export interface OwnOptions {
  jobs: number | null;
  summary: boolean;
  jsonPath: string | null;
  /** The arguments left for objtool. */
  rest: string[];
}

function parseJobs(value: string | undefined): number {
  if (value === undefined || !/^[0-9]+$/.test(value) || Number(value) < 1 || Number(value) > 1024) {
    throw new UserError(`objtool: --jobs takes a number of threads from 1 to 1024${value === undefined ? '' : `, not '${value}'`}`);
  }
  return Number(value);
}

export function splitOwnOptions(argv: string[]): OwnOptions {
  const own: OwnOptions = { jobs: null, summary: false, jsonPath: null, rest: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      own.rest.push(...argv.slice(i));
      break;
    }
    if (a === '--jobs') own.jobs = parseJobs(argv[++i]);
    else if (a.startsWith('--jobs=')) own.jobs = parseJobs(a.slice('--jobs='.length));
    else if (a === '--summary') own.summary = true;
    else if (a === '--json' || a.startsWith('--json=')) {
      const v = a === '--json' ? argv[++i] : a.slice('--json='.length);
      if (!v) throw new UserError('objtool: --json needs a file name');
      own.jsonPath = v;
    } else own.rest.push(a);
  }
  return own;
}

/** One plain objtool run: one file argument that is not a directory, no klp-lab option. */
function isSingleRun(own: OwnOptions): boolean {
  if (own.jobs !== null || own.summary || own.jsonPath !== null) return false;
  const parsed = parseObjtoolArgsMany(own.rest, process.env.OBJTOOL_ARGS);
  if (!parsed.ok) return true; // objtool's usage message, as the C tool prints it
  if (parsed.files.length !== 1) return false;
  try {
    return !fs.statSync(path.resolve(parsed.files[0])).isDirectory();
  } catch {
    return true;
  }
}

export const objtoolCommand: CommandModule<object, object> = {
  command: 'objtool',
  describe: 'stack validation and ORC generation as Linux 6.1 objtool, on one object or many (objtool --help for its options)',
  builder: (y) => y.strict(false).help(false),
  handler: (): void | Promise<void> => {
    const argv = process.argv;
    const at = argv.indexOf('objtool', 2);
    const own = splitOwnOptions(argv.slice(at + 1));
    if (isSingleRun(own)) {
      const r = runObjtool(own.rest);
      if (r.stdout) process.stdout.write(r.stdout);
      if (r.stderr) process.stderr.write(r.stderr);
      process.exitCode = r.status;
      return;
    }
    const settings: BatchSettings = { jobs: own.jobs ?? defaultJobs(), summary: own.summary, jsonPath: own.jsonPath };
    const sink = { stdout: (s: string) => process.stdout.write(s), stderr: (s: string) => process.stderr.write(s) };
    return runObjtoolBatch(own.rest, settings, sink).then((status) => {
      process.exitCode = status;
    });
  },
};
