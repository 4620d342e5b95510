#!/usr/bin/env node
// The klp-lab command line. Errors that come from the user's input (bad arguments, bad files)
// are printed as one line and exit with status 1; nothing prints a host stack trace.
//
// Start-up is kept small: a command's module is required only when that command runs, and a
// command that parses its own arguments (objtool) is called without loading yargs at all.

import type { Argv } from 'yargs';
import { commands, type AnyCommand, type CommandEntry } from './commands';
import { UserError, describeFailure } from './userError';

/** Registers a command with yargs by its descriptor; the module loads when yargs picks it. */
function lazyCommand(c: CommandEntry): AnyCommand {
  return {
    command: c.command,
    describe: c.describe,
    builder: (y: Argv) => {
      const b = c.load().builder;
      return (typeof b === 'function' ? b(y) : b ? y.options(b) : y) as Argv;
    },
    handler: (args) => c.load().handler(args),
  };
}

async function main(argv: string[]): Promise<void> {
  // A bad KLP_LAB_WASM_THRESHOLD is refused before any command runs. jit/jitDefault.ts, which reads
  // it, loads only when the variable is set: objtool's start-up stays without the emulator's modules.
  if (process.env.KLP_LAB_WASM_THRESHOLD !== undefined) {
    const { wasmThresholdEnvProblem } = require('../emulator/jit/jitDefault') as typeof import('../emulator/jit/jitDefault'); // eslint-disable-line @typescript-eslint/no-require-imports
    const problem = wasmThresholdEnvProblem();
    if (problem !== null) throw new UserError(problem);
  }
  const own = commands.find((c) => c.ownArgs && c.command.split(' ')[0] === argv[0]);
  if (own) {
    await own.load().handler({ _: [argv[0]], $0: 'klp-lab' });
    return;
  }
  const yargs = require('yargs') as typeof import('yargs'); // eslint-disable-line @typescript-eslint/no-require-imports
  let parser = yargs(argv)
    .scriptName('klp-lab')
    .usage('$0 <command> [options]')
    .strict()
    .demandCommand(1, 'name a command (see klp-lab --help)')
    .help('help')
    .version(false)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      // Argument problems come with a message; errors thrown by handlers come as themselves.
      if (msg) throw new UserError(msg);
      throw err;
    });
  for (const c of commands) parser = parser.command(lazyCommand(c));
  await parser.parseAsync();
}

// A reader that closes standard output early (`klp-lab run IMAGE | head`) ends the run quietly with
// the status a C tool killed by SIGPIPE has (128 + 13), not with an unhandled 'error' event.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(141);
  throw err;
});

main(process.argv.slice(2)).catch((err: unknown) => {
  const { message, status } = describeFailure(err);
  process.stderr.write(`klp-lab: ${message}\n`);
  process.exitCode = status;
});
