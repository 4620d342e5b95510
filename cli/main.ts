#!/usr/bin/env node
// The klp-lab command line. Errors that come from the user's input (bad arguments, bad files)
// are printed as one line and exit with status 1; nothing prints a host stack trace.

import yargs from 'yargs';
import { commands } from './commands';
import { UserError, describeFailure } from './userError';

async function main(argv: string[]): Promise<void> {
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
  for (const c of commands) parser = parser.command(c);
  await parser.parseAsync();
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const { message, status } = describeFailure(err);
  process.stderr.write(`klp-lab: ${message}\n`);
  process.exitCode = status;
});
