/**
 * The text form of trace lines (`klp-lab trace`): retired-instruction count, task, address, symbol
 * (when the caller can symbolize, e.g. from the image), disassembly in AT&T syntax as `klp-lab run
 * --trace` prints it; events on lines of their own, `>>` for entries into the kernel (exceptions,
 * interrupts, syscalls) and `<<` for the returns. A block is disassembled once, from the bytes the
 * trace recorded, so the text is what really ran even if the image was patched while it ran.
 */
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction } from 'iced-x86';
import { EXCEPTION_NAMES } from '../interrupts/guestFault';
import type { TraceBlock, TraceEvent, TraceItem, TraceTask } from './traceReader';

/** `name+0xoff/0xsize` for an address, or null when it is in no symbol. */
export type Symbolizer = (va: number) => string | null;

export function hex64(v: number): string {
  return BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');
}

export function taskLabel(t: TraceTask | null): string {
  if (t === null) return '-';
  if (t.pid === null) return `task ${hex64(t.pointer)}`;
  return `${t.pid} ${t.comm}`;
}

function disassembleBlock(b: TraceBlock): string[] {
  const out: string[] = [];
  const fmt = new Formatter(FormatterSyntax.Gas);
  fmt.uppercaseHex = false; // as objdump, and as the address columns
  const ins = new Instruction();
  try {
    for (let i = 0; i < b.length; i++) {
      const dec = new Decoder(b.bits, b.insnBytes(i), DecoderOptions.None);
      try {
        dec.ip = BigInt.asUintN(64, BigInt(b.insnVa(i)));
        dec.decodeOut(ins);
        out.push(fmt.format(ins));
      } finally { dec.free(); }
    }
  } finally { ins.free(); fmt.free(); }
  return out;
}

function eventText(e: TraceEvent): string {
  switch (e.name) {
    case 'syscall': return '>> syscall';
    case 'sysret': return '<< sysret';
    case 'iret': return '<< iret';
    case 'interrupt': return `>> interrupt vector 0x${e.vector.toString(16)} (external)`;
    case 'software-interrupt': return `>> int 0x${e.vector.toString(16)} (software interrupt)`;
    case 'exception': {
      const name = EXCEPTION_NAMES[e.vector] ?? `vector 0x${e.vector.toString(16)}`;
      let s = `>> ${name} exception`;
      if (e.errorCode >= 0) s += `, error 0x${e.errorCode.toString(16)}`;
      if (e.cr2 !== null) s += `, cr2 0x${hex64(e.cr2)}`;
      return s + (e.cpl === 3 ? ' (from user mode)' : '');
    }
  }
}

export class TraceText {
  private readonly disassembly = new Map<TraceBlock, string[]>();

  constructor(private readonly symbolize: Symbolizer | null = null) {}

  private insnText(b: TraceBlock, i: number): string {
    let d = this.disassembly.get(b);
    if (d === undefined) { d = disassembleBlock(b); this.disassembly.set(b, d); }
    return d[i];
  }

  line(item: TraceItem): string {
    let s = `${String(item.icount).padStart(11)}  ${taskLabel(item.task).padEnd(20)} ${hex64(item.va)}`;
    if (this.symbolize !== null) s += ` ${(this.symbolize(item.va) ?? '').padEnd(32)}`;
    s += '  ' + (item.kind === 'insn' ? this.insnText(item.block, item.index) : eventText(item));
    return s.trimEnd();
  }
}
