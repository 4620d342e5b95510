/**
 * The entry point for `klp-lab run IMAGE --gdb PORT [--wait]` (cli/commands/run.ts belongs to the
 * emulator's owner: it calls this after loading the image). Reads the task layout from the image's
 * symbols, starts the stub on 127.0.0.1 and resolves when the run ends. Extra monitor commands
 * (`unwind`, `lp-state`) are registered on the returned server's `monitor` before gdb attaches.
 */
import { ElfFile } from '../../elf/elfFile';
import type { Machine } from '../machine';
import { GdbServer, type GdbRunResult } from './gdbServer';
import { GuestTasks } from './guestTasks';
import type { MonitorCommands } from './monitorCommands';

export interface RunUnderGdbOptions {
  port: number;
  wait?: boolean;
  monitor?: MonitorCommands;
  /** One line per event (listening, client connected, bad packets); default: stderr. */
  log?: (line: string) => void;
}

/** Start the stub for a loaded machine; `server.done` resolves when the run ends. */
export async function startGdbStub(m: Machine, image: Uint8Array, imageName: string, opts: RunUnderGdbOptions): Promise<GdbServer> {
  const log = opts.log ?? ((s: string) => { process.stderr.write(s + '\n'); });
  let tasks: GuestTasks | null = null;
  try { tasks = GuestTasks.fromElf(ElfFile.parse(image, imageName)); } catch { tasks = null; }
  const server = await GdbServer.listen(m, { port: opts.port, wait: opts.wait, tasks, monitor: opts.monitor, log });
  log(`gdb: listening on 127.0.0.1:${server.port}${opts.wait ? ' (waiting for gdb before running)' : ''}` +
    (tasks !== null ? '; guest tasks appear as threads' : ''));
  return server;
}

export async function runUnderGdb(m: Machine, image: Uint8Array, imageName: string, opts: RunUnderGdbOptions): Promise<GdbRunResult> {
  return (await startGdbStub(m, image, imageName, opts)).done;
}
