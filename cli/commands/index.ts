// Every klp-lab subcommand, in the order `klp-lab --help` lists them. One module per command,
// required only when its command runs (or shows its own --help), so `klp-lab objtool` does not
// load the emulator and the livepatch code. Adding a command is one line here; `command` and
// `describe` are the module's own (test/objtool/objtoolCli.test.ts checks they agree).

import type { CommandModule } from 'yargs';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyCommand = CommandModule<any, any>;

export interface CommandEntry {
  /** The yargs command string, as in the module ('run <image>'); its first word names it. */
  command: string;
  describe: string;
  /** Requires the command's module. */
  load: () => AnyCommand;
  /** The command parses its own arguments (yargs only routes to it): main.ts runs it without yargs. */
  ownArgs?: boolean;
}

/* eslint-disable @typescript-eslint/no-require-imports */
export const commands: CommandEntry[] = [
  { command: 'demo', describe: 'boot the fixture kernel, live-patch it while it runs, show the transition (what `npm start` runs)', load: () => (require('./demo') as typeof import('./demo')).demoCommand },
  { command: 'readelf <files..>', describe: 'display ELF headers, sections, symbols, relocations and notes (as GNU readelf -W)', load: () => (require('./readelf') as typeof import('./readelf')).readelfCommand },
  { command: 'btf <file>', describe: 'print the BTF types of a kernel image or module (as bpftool btf dump format raw)', load: () => (require('./btf') as typeof import('./btf')).btfCommand },
  { command: 'objtool', describe: 'stack validation and ORC generation as Linux 6.1 objtool, on one object or many (objtool --help for its options)', load: () => (require('./objtool') as typeof import('./objtool')).objtoolCommand, ownArgs: true },
  { command: 'run [image]', describe: 'boot a PVH kernel image in the emulator (serial console on stdout, exit status from isa-debug-exit)', load: () => (require('./run') as typeof import('./run')).runCommand },
  { command: 'livepatch', describe: 'live-patch the fixture kernel while it runs: one patch with its log and timeline, or a study of many runs', load: () => (require('./livepatch') as typeof import('./livepatch')).livepatchCommand },
  { command: 'trace <file>', describe: 'print a trace written by `klp-lab run IMAGE --trace FILE`, filtered by address, task or events', load: () => (require('./trace') as typeof import('./trace')).traceCommand },
  { command: 'unwind', describe: 'unwind the tasks of a stopped fixture kernel with the frame-pointer and ORC unwinders', load: () => (require('./unwind') as typeof import('./unwind')).unwindCommand },
];
