// Every klp-lab subcommand, in the order `klp-lab --help` lists them. One module per command.

import type { CommandModule } from 'yargs';
import { demoCommand } from './demo';
import { readelfCommand } from './readelf';
import { objtoolCommand } from './objtool';
import { unwindCommand } from './unwind';
import { runCommand } from './run';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const commands: CommandModule<any, any>[] = [
  demoCommand,
  readelfCommand,
  objtoolCommand,
  runCommand,
  unwindCommand,
];
