// `klp-lab trace FILE [--image IMAGE] [--from ADDR|SYMBOL] [--to ADDR|SYMBOL] [--task PID|NAME]
// [--exceptions] [--limit N]`: print a trace written by `klp-lab run IMAGE --trace FILE` as text, one
// line per retired instruction and per event (exception, interrupt, syscall, sysret, iret), filtered
// without running the guest again. The whole file is checked before the first line is printed, so a
// bad or truncated trace is one line on stderr and exit status 1.

import * as crypto from 'crypto';
import * as fs from 'fs';
import type { CommandModule } from 'yargs';
import { ElfFile } from '../../elf/elfFile';
import { TraceFile, type TraceItem } from '../../emulator/trace/traceReader';
import { TraceFormatError } from '../../emulator/trace/traceFormat';
import { traceFilter, type TaskSelector, type TraceFilterSpec } from '../../emulator/trace/traceFilter';
import { TraceText, type Symbolizer } from '../../emulator/trace/traceText';
import { KernelImage } from '../../livepatch/unwind/kernelImage';
import { UserError } from '../userError';

export interface TraceArgs {
  file: string;
  image?: string;
  from?: string;
  to?: string;
  task?: string;
  exceptions?: boolean;
  limit?: number;
}

function readFile(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: ${code === 'ENOENT' ? 'No such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

interface Symbols {
  image: KernelImage;
  symbolize: Symbolizer;
}

function loadImage(path: string): Symbols {
  const bytes = readFile(path);
  const image = KernelImage.fromElf(ElfFile.parse(bytes, path));
  const ks = image.kallsyms;
  return { image, symbolize: (va) => (ks.lookup(va) === null ? null : ks.symbol(va)) };
}

/**
 * An address bound: hexadecimal (0x optional, as the trace prints addresses), or SYMBOL[+OFF] with
 * --image. Returns the address and, for a bare symbol, the symbol's end.
 */
function parseAddress(text: string, option: string, syms: Symbols | null): { at: number; end?: number } {
  const hex = /^(0x)?([0-9a-f]{1,16})$/i.exec(text);
  if (hex) return { at: Number(BigInt.asIntN(64, BigInt('0x' + hex[2]))) };
  const m = /^([A-Za-z_.$][\w.$]*)(?:\+(0x[0-9a-f]+|\d+))?$/i.exec(text);
  if (!m) throw new UserError(`--${option} ${text}: not an address or a symbol`);
  if (syms === null) throw new UserError(`--${option} ${text}: a symbol needs --image`);
  const start = syms.image.symbol(m[1]);
  if (start === undefined) throw new UserError(`--${option} ${text}: no symbol ${m[1]} in the image`);
  if (m[2] !== undefined) return { at: start + Number(m[2]) };
  const found = syms.image.kallsyms.lookup(start);
  return { at: start, end: found !== null && found.offset === 0 ? start + found.size : undefined };
}

function parseTask(text: string): TaskSelector {
  return /^\d+$/.test(text) ? { pid: Number(text) } : { name: text };
}

/** Print the filtered trace through `write` (a chunk of lines at a time); returns the lines printed. */
export function printTrace(args: TraceArgs, write: (text: string) => void, warn: (line: string) => void = () => {}): number {
  if (args.limit !== undefined && !(Number.isInteger(args.limit) && args.limit > 0)) throw new UserError('--limit must be a positive whole number');
  let trace: TraceFile;
  try {
    trace = TraceFile.parse(readFile(args.file), args.file);
    trace.validate();
  } catch (e) {
    if (e instanceof TraceFormatError) throw new UserError(e.message);
    throw e;
  }
  const syms = args.image !== undefined ? loadImage(args.image) : null;
  if (syms !== null && trace.header.imageDigest !== '') {
    const digest = crypto.createHash('sha256').update(readFile(args.image!)).digest('hex');
    if (digest !== trace.header.imageDigest) warn(`${args.file} was recorded from ${trace.header.imageName || 'another image'}, not ${args.image} (the symbols may not match)`);
  }
  const spec: TraceFilterSpec = { eventsOnly: args.exceptions === true };
  if (args.from !== undefined) {
    const from = parseAddress(args.from, 'from', syms);
    spec.from = from.at;
    if (args.to === undefined && from.end !== undefined) spec.to = from.end;
  }
  if (args.to !== undefined) spec.to = parseAddress(args.to, 'to', syms).at;
  if (args.task !== undefined) {
    if (trace.validate().tasks === 0) throw new UserError(`${args.file}: the trace has no task names (its image exports no current_task and TASK_* layout), so --task cannot select`);
    spec.task = parseTask(args.task);
  }
  const accept = traceFilter(spec);
  const text = new TraceText(syms?.symbolize ?? null);
  const limit = args.limit ?? Infinity;
  let printed = 0;
  let chunk: string[] = [];
  trace.forEach((item: TraceItem) => {
    if (!accept(item)) return true;
    chunk.push(text.line(item));
    printed++;
    if (chunk.length >= 4096) { write(chunk.join('\n') + '\n'); chunk = []; }
    return printed < limit;
  });
  if (chunk.length > 0) write(chunk.join('\n') + '\n');
  return printed;
}

/** Raised to stop printing when stdout is closed early (`klp-lab trace FILE | head`). */
class OutputClosed extends Error {}

function writeStdout(text: string): void {
  try {
    fs.writeSync(1, text);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') throw new OutputClosed();
    if (code === 'EAGAIN') { writeStdout(text); return; } // a non-blocking pipe that is full: try again
    throw e;
  }
}

export const traceCommand: CommandModule<object, TraceArgs> = {
  command: 'trace <file>',
  describe: 'print a trace written by `klp-lab run IMAGE --trace FILE`, filtered by address, task or events',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'trace file' })
      .option('image', { type: 'string', describe: 'the traced image: addresses as symbol+0xoff/0xsize, symbols for --from/--to' })
      .option('from', { type: 'string', describe: 'show addresses from ADDR (hex) or SYMBOL[+OFF]; a bare SYMBOL alone: that function' })
      .option('to', { type: 'string', describe: 'show addresses below ADDR (hex) or SYMBOL[+OFF]' })
      .option('task', { type: 'string', describe: 'show only while this task runs (pid or comm)' })
      .option('exceptions', { type: 'boolean', describe: 'show only exceptions, interrupts, syscalls and returns' })
      .option('limit', { type: 'number', describe: 'print at most N lines' }),
  handler: (args) => {
    try {
      printTrace(args, writeStdout, (line) => process.stderr.write(`klp-lab: warning: ${line}\n`));
    } catch (e) {
      if (!(e instanceof OutputClosed)) throw e;
    }
  },
};
