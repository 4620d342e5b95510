/**
 * Reads a trace file (traceFormat.ts) and expands it back into what ran: every retired instruction
 * (block records expanded by their instruction lengths, cut where the next timed record says the
 * block stopped), every exception and interrupt the machine delivered, and the SYSCALL / SYSRET /
 * IRET instructions that retired (recognised from the recorded code bytes), each with the task that
 * was current. validate() walks the whole file first, so a bad or truncated file is refused before
 * anything is printed.
 */
import { Decoder, DecoderOptions, Instruction, Mnemonic, OpKind } from 'iced-x86';
import {
  TRACE_MAGIC, TRACE_VERSION, DIGEST_BYTES, TAG_BLOCK_SHORT, TAG_BLOCK, TAG_BLOCK_DEF, TAG_EVENT, TAG_TASK, TAG_TASK_INFO,
  TAG_END, TraceBytes, TraceFormatError,
} from './traceFormat';

export const FLOW_NONE = 0, FLOW_SYSCALL = 1, FLOW_SYSRET = 2, FLOW_IRET = 3;

/** One block description: where it ran and its instructions' bytes. */
export class TraceBlock {
  /** Start offset of each instruction in `code`, plus the end. */
  readonly offsets: Uint32Array;
  private flowKinds: Uint8Array | null = null;

  constructor(readonly id: number, readonly va: number, readonly bits: number, lengths: Uint8Array, readonly code: Uint8Array) {
    this.offsets = new Uint32Array(lengths.length + 1);
    for (let i = 0; i < lengths.length; i++) this.offsets[i + 1] = this.offsets[i] + lengths[i];
  }

  get length(): number { return this.offsets.length - 1; }

  insnVa(i: number): number { return this.va + this.offsets[i]; }

  insnBytes(i: number): Uint8Array { return this.code.subarray(this.offsets[i], this.offsets[i + 1]); }

  /** FLOW_* of instruction i: the privilege-changing instructions shown as events of their own. */
  flow(i: number): number {
    if (this.flowKinds === null) this.flowKinds = decodeFlows(this);
    return this.flowKinds[i] & FLOW_KIND;
  }

  /**
   * Whether the last instruction is a REP string instruction, whose every iteration retires as an
   * instruction of its own (emulator/exec/string.ts): the block then accounts for more executions
   * than it has instructions.
   */
  get repeatsLast(): boolean {
    if (this.flowKinds === null) this.flowKinds = decodeFlows(this);
    return (this.flowKinds[this.length - 1] & REP_STRING) !== 0;
  }
}

const FLOW_KIND = 0x7f, REP_STRING = 0x80;
const STRING_OPERANDS = new Set<number>([OpKind.MemorySegSI, OpKind.MemorySegESI, OpKind.MemorySegRSI,
  OpKind.MemoryESDI, OpKind.MemoryESEDI, OpKind.MemoryESRDI]);

function decodeFlows(b: TraceBlock): Uint8Array {
  const out = new Uint8Array(b.length);
  const ins = new Instruction();
  try {
    for (let i = 0; i < b.length; i++) {
      const dec = new Decoder(b.bits, b.insnBytes(i), DecoderOptions.None);
      try {
        dec.decodeOut(ins);
        switch (ins.mnemonic) {
          case Mnemonic.Syscall: case Mnemonic.Sysenter: out[i] = FLOW_SYSCALL; break;
          case Mnemonic.Sysret: case Mnemonic.Sysretq: case Mnemonic.Sysexit: case Mnemonic.Sysexitq: out[i] = FLOW_SYSRET; break;
          case Mnemonic.Iret: case Mnemonic.Iretd: case Mnemonic.Iretq: out[i] = FLOW_IRET; break;
          default: break;
        }
        if ((ins.hasRepPrefix || ins.hasRepePrefix || ins.hasRepnePrefix) &&
          (STRING_OPERANDS.has(ins.op0Kind) || STRING_OPERANDS.has(ins.op1Kind))) out[i] |= REP_STRING;
      } finally { dec.free(); }
    }
  } finally { ins.free(); }
  return out;
}

export interface TraceTask {
  /** the value of the current-task word */
  pointer: number;
  /** null when the trace does not say who the pointer is */
  pid: number | null;
  comm: string | null;
}

export interface TraceInsn {
  kind: 'insn';
  /** retired instructions before this one */
  icount: number;
  va: number;
  block: TraceBlock;
  index: number;
  task: TraceTask | null;
}

export type EventName = 'exception' | 'interrupt' | 'software-interrupt' | 'syscall' | 'sysret' | 'iret';

export interface TraceEvent {
  kind: 'event';
  /** retired instructions when it happened */
  icount: number;
  name: EventName;
  /** exceptions and interrupts: the vector; -1 for the flow instructions */
  vector: number;
  /** -1 when the vector has no error code */
  errorCode: number;
  /** RIP at delivery (a fault: the faulting instruction; a trap or interrupt: the next one), or the flow instruction's address */
  va: number;
  cpl: number;
  /** #PF only */
  cr2: number | null;
  task: TraceTask | null;
}

export type TraceItem = TraceInsn | TraceEvent;

export interface TraceHeader {
  version: number;
  startIcount: number;
  imageName: string;
  /** hex SHA-256, or '' when the writer did not know the image */
  imageDigest: string;
}

export interface TraceTotals {
  instructions: number;
  records: number;
  events: number;
  blocks: number;
  tasks: number;
  endReason: string;
}

/** emulator/interrupts/delivery.ts EV_*: how a vector was raised */
const EV_FAULT = 0, EV_TRAP = 1, EV_SOFT_INT = 2, EV_EXTERNAL = 3;

function eventName(kind: number): EventName | null {
  switch (kind) {
    case EV_FAULT: case EV_TRAP: return 'exception';
    case EV_SOFT_INT: return 'software-interrupt';
    case EV_EXTERNAL: return 'interrupt';
    default: return null;
  }
}

export class TraceFile {
  readonly header: TraceHeader;
  private readonly recordsAt: number;
  private totalsCache: TraceTotals | null = null;

  constructor(readonly bytes: Uint8Array, readonly file: string) {
    const r = new TraceBytes(bytes, file);
    const magic = Buffer.from(r.take(Math.min(TRACE_MAGIC.length, bytes.length), 'magic')).toString('latin1');
    if (magic !== TRACE_MAGIC) {
      throw new TraceFormatError(file, bytes.length < TRACE_MAGIC.length && TRACE_MAGIC.startsWith(magic) && bytes.length > 0
        ? 'truncated trace: the file ends inside its header' : 'not a klp-lab trace file (bad magic)');
    }
    const version = r.u8('version') | (r.u8('version') << 8);
    if (version !== TRACE_VERSION) throw new TraceFormatError(file, `trace format version ${version} (this klp-lab reads version ${TRACE_VERSION})`);
    r.take(2, 'header');
    const startIcount = r.varint('start count');
    const imageName = r.string('image name');
    const digest = r.take(DIGEST_BYTES, 'image digest');
    this.header = {
      version, startIcount, imageName,
      imageDigest: digest.every((b) => b === 0) ? '' : Buffer.from(digest).toString('hex'),
    };
    this.recordsAt = r.pos;
  }

  static parse(bytes: Uint8Array, file: string): TraceFile {
    return new TraceFile(bytes, file);
  }

  /** Walk every record without expanding; throws TraceFormatError on the first problem. */
  validate(): TraceTotals {
    if (this.totalsCache === null) this.totalsCache = this.walk(null);
    return this.totalsCache;
  }

  /** Every instruction and event in order. */
  forEach(visit: (item: TraceItem) => boolean | void): TraceTotals {
    return this.walk(visit);
  }

  /**
   * The one record loop. With a visitor, a block's instructions are handed out when the next timed
   * record shows how many of them ran; the visitor returns false to stop early.
   */
  private walk(visit: ((item: TraceItem) => boolean | void) | null): TraceTotals {
    const r: TraceBytes = new TraceBytes(this.bytes, this.file);
    r.pos = this.recordsAt;
    const blocks: TraceBlock[] = [];
    const who = new Map<number, { pid: number; comm: string }>();
    let task: TraceTask | null = null;
    let icount = this.header.startIcount;
    let records = 0, events = 0;
    // The block being run: its instructions up to `cursor` are handed out; the next one retires at `cursorIcount`.
    let pending: TraceBlock | null = null;
    let pendingAt = 0, cursor = 0, cursorIcount = icount;
    // Events wait until the instructions that retire after their delivery are out: an INT3 or INT n
    // raises its vector and then retires, so it is printed before its event; a fault retires nothing.
    let held: TraceEvent[] = [];
    let stopped = false;

    const emit = (item: TraceItem): void => {
      if (!stopped && visit!(item) === false) stopped = true;
    };

    // Instructions of the current block retired until `now`: expand them, then the held events.
    const advance = (now: number): void => {
      if (pending !== null) {
        const ran = now - cursorIcount;
        if (cursor + ran > pending.length && !pending.repeatsLast) {
          r.fail(`bad trace: ${cursor + ran} instructions counted for block ${pending.id} of ${pending.length} instructions`, pendingAt);
        }
        const b = pending;
        if (visit !== null) {
          for (let k = cursor; k < cursor + ran && !stopped; k++) {
            const i = k < b.length ? k : b.length - 1; // further iterations of a REP string instruction
            const ic = cursorIcount + (k - cursor);
            emit({ kind: 'insn', icount: ic, va: b.insnVa(i), block: b, index: i, task });
            const flow = b.flow(i);
            if (flow !== FLOW_NONE) {
              const name: EventName = flow === FLOW_SYSCALL ? 'syscall' : flow === FLOW_SYSRET ? 'sysret' : 'iret';
              emit({ kind: 'event', icount: ic + 1, name, vector: -1, errorCode: -1, va: b.insnVa(i), cpl: -1, cr2: null, task });
            }
          }
        }
        cursor += ran;
        cursorIcount = now;
      } else if (now !== cursorIcount) {
        r.fail(`bad trace: ${now - cursorIcount} instructions retired outside any block`, pendingAt);
      }
      if (visit !== null) for (const e of held) emit(e);
      held = [];
    };

    for (;;) {
      if (r.atEnd) r.fail('truncated trace: no END record (the file was cut short)');
      const at = r.pos;
      const tag = r.u8('record tag');
      if (tag >= TAG_BLOCK_SHORT || tag === TAG_BLOCK) {
        const delta = tag >= TAG_BLOCK_SHORT ? tag & 0x7f : r.varint('block delta');
        const id = r.varint('block id');
        const b = blocks[id];
        if (b === undefined) r.fail(`bad trace: block ${id} used before it is described`, at);
        icount += delta;
        advance(icount);
        pending = b; pendingAt = at; cursor = 0; cursorIcount = icount;
        records++;
      } else if (tag === TAG_BLOCK_DEF) {
        const id = r.varint('block id');
        const va = r.i64('block address');
        const bits = r.u8('block bitness');
        const n = r.varint('instruction count');
        if (n === 0 || n > 4096 || (bits !== 16 && bits !== 32 && bits !== 64)) r.fail('bad trace: malformed block description', at);
        if (id !== blocks.length) r.fail(`bad trace: block ${id} described out of order (expected ${blocks.length})`, at);
        const lengths = r.take(n, 'instruction lengths');
        let codeLen = 0;
        for (const l of lengths) {
          if (l === 0 || l > 15) r.fail('bad trace: malformed block description', at);
          codeLen += l;
        }
        const code = r.take(codeLen, 'block code');
        blocks.push(new TraceBlock(id, va, bits, lengths, code));
      } else if (tag === TAG_EVENT) {
        icount += r.varint('event delta');
        const vector = r.u8('vector');
        const kind = r.u8('event kind');
        const ec = r.varint('error code') - 1;
        const rip = r.i64('event rip');
        const cpl = r.u8('event cpl');
        const cr2 = vector === 14 ? r.i64('cr2') : null;
        const name = eventName(kind);
        if (name === null || cpl > 3) r.fail('bad trace: malformed event record', at);
        advance(icount);
        records++; events++;
        held.push({ kind: 'event', icount, name: name!, vector, errorCode: ec, va: rip, cpl, cr2, task });
      } else if (tag === TAG_TASK) {
        icount += r.varint('task delta');
        const pointer = r.i64('task pointer');
        advance(icount);
        records++;
        const id = who.get(pointer);
        task = pointer === 0 ? null : { pointer, pid: id?.pid ?? null, comm: id?.comm ?? null };
      } else if (tag === TAG_TASK_INFO) {
        const pointer = r.i64('task pointer');
        const pid = r.i32('pid');
        const comm = r.string('comm');
        who.set(pointer, { pid, comm });
        if (task !== null && task.pointer === pointer) task = { pointer, pid, comm };
      } else if (tag === TAG_END) {
        icount += r.varint('end delta');
        const counted = r.varint('record count');
        const why = r.string('end reason');
        advance(icount);
        if (counted !== records) r.fail(`bad trace: END says ${counted} records, the file has ${records}`, at);
        if (!r.atEnd) r.fail('bad trace: data after the END record', r.pos);
        return { instructions: icount - this.header.startIcount, records: records + 1, events, blocks: blocks.length, tasks: who.size, endReason: why };
      } else {
        r.fail(`bad trace: unknown record tag 0x${tag.toString(16)}`, at);
      }
    }
  }
}
