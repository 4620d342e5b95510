/**
 * Writes the binary trace (traceFormat.ts) while the machine runs. The run loop tells the writer of
 * every block it enters (Machine.blockObserver); an interrupt hook records exceptions and interrupts.
 * Records go into one typed-array buffer that is flushed in large writes, so tracing costs a few stores
 * per block, not a system call or an object per instruction.
 *
 * The current task: the caller may name the physical address of the guest word that holds the running
 * task's pointer (the fixture kernel's current_task) and a function that says which pid and comm a
 * pointer stands for. The word is compared at each block entry (two typed-array reads); a change is a
 * TASK record, and TASK_INFO records say who the pointer is. A switch made inside a block is seen at
 * the next block entry, so at most the rest of that block is attributed to the previous task.
 *
 * The file is written atomically: into a temporary file beside it, renamed over FILE by finish();
 * abort() (or any write error) removes the temporary file, so FILE is either complete or untouched.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BlockObserver, Machine } from '../machine';
import { HOOK_INTR } from '../hooks/registry';
import type { Block } from '../decode/blockCache';
import type { Cpu } from '../cpu/cpu';
import {
  TRACE_MAGIC, TRACE_VERSION, DIGEST_BYTES, TAG_BLOCK_SHORT, TAG_BLOCK, TAG_BLOCK_DEF, TAG_EVENT, TAG_TASK, TAG_TASK_INFO,
  TAG_END, MAX_SMALL_RECORD, putVarint, putI64, putString,
} from './traceFormat';

export interface TaskIdentity { pid: number; comm: string }

export interface TraceWriterOptions {
  /** Shown by the reader and checked against --image. */
  imageName?: string;
  /** SHA-256 of the image (32 bytes). */
  imageDigest?: Uint8Array;
  /** Physical address of the guest's current-task pointer word; -1 or absent: no task tracking. */
  taskWordPhys?: number;
  /** Who a task pointer is (read from guest memory without side effects); null when unknown. */
  describeTask?: (task: number) => TaskIdentity | null;
  /** Buffer size in bytes (default 4 MiB). */
  bufferBytes?: number;
}

export interface TraceSummary {
  file: string;
  instructions: number;
  records: number;
  blocksDescribed: number;
  bytes: number;
}

/** The trace file could not be written (no such directory, disk full, ...). */
export class TraceWriteError extends Error {}

let writers = 0;

export class TraceWriter implements BlockObserver {
  /** Stored in Block.traceWriter: a block described by an earlier writer is described again. */
  private readonly serial = ++writers;
  private readonly cpu: Cpu;
  private readonly dv: DataView;
  private readonly buf: Uint8Array;
  private readonly flushAt: number;
  private pos = 0;
  private fd: number;
  private readonly tmp: string;
  private lastRetired: number;
  private readonly startRetired: number;
  private records = 0;
  private nextBlockId = 0;
  private written = 0;
  private readonly taskPhys: number;
  private taskLo = 0;
  private taskHi = 0;
  private readonly known = new Map<number, string>();
  private readonly intrHook: number;
  private closed = false;

  private constructor(private readonly m: Machine, readonly file: string, private readonly opts: TraceWriterOptions) {
    this.cpu = m.cpu;
    this.dv = m.mem.dv;
    this.buf = new Uint8Array(Math.max(1 << 16, opts.bufferBytes ?? 4 << 20));
    this.flushAt = this.buf.length - MAX_SMALL_RECORD * 4;
    const phys = opts.taskWordPhys ?? -1;
    this.taskPhys = phys >= 0 && phys + 8 <= m.mem.size ? phys : -1;
    this.tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
    try {
      this.fd = fs.openSync(this.tmp, 'w');
    } catch (e) {
      throw new TraceWriteError(`${file}: cannot write the trace (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    this.startRetired = this.lastRetired = this.cpu.icount - this.cpu.idleNs;
    this.writeHeader();
    this.intrHook = m.hookAdd(HOOK_INTR, (vector: number, errorCode: number, kind: number) => this.event(vector, errorCode, kind));
    m.blockObserver = this;
  }

  /** Start tracing a machine into `file` (before run(): the run loop picks the writer up when it starts). */
  static start(m: Machine, file: string, opts: TraceWriterOptions = {}): TraceWriter {
    return new TraceWriter(m, file, opts);
  }

  private writeHeader(): void {
    const b = this.buf;
    let p = 0;
    for (let i = 0; i < TRACE_MAGIC.length; i++) b[p++] = TRACE_MAGIC.charCodeAt(i);
    b[p++] = TRACE_VERSION & 0xff; b[p++] = TRACE_VERSION >> 8; b[p++] = 0; b[p++] = 0;
    p = putVarint(b, p, this.startRetired);
    p = putString(b, p, Buffer.from(this.opts.imageName ?? '', 'utf8').subarray(0, 4096));
    const digest = this.opts.imageDigest ?? new Uint8Array(DIGEST_BYTES);
    b.set(digest.subarray(0, DIGEST_BYTES), p);
    this.pos = p + DIGEST_BYTES;
  }

  private flush(): void {
    let off = 0;
    try {
      while (off < this.pos) off += fs.writeSync(this.fd, this.buf, off, this.pos - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      this.abort();
      throw new TraceWriteError(`${this.file}: writing the trace failed (${code}); no file was written`);
    }
    this.written += this.pos;
    this.pos = 0;
  }

  /** The timed-record prefix: tag (or a short block tag holding the delta) and the delta. */
  private timed(tag: number): void {
    const c = this.cpu;
    const retired = c.icount - c.idleNs;
    const delta = retired - this.lastRetired;
    this.lastRetired = retired;
    this.buf[this.pos++] = tag;
    this.pos = putVarint(this.buf, this.pos, delta);
    this.records++;
  }

  enterBlock(b: Block): void {
    const c = this.cpu;
    if (this.taskPhys >= 0) {
      const lo = this.dv.getUint32(this.taskPhys, true), hi = this.dv.getInt32(this.taskPhys + 4, true);
      if (lo !== this.taskLo || hi !== this.taskHi) this.taskChanged(lo, hi);
    }
    const id = b.traceWriter === this.serial && b.traceVa === c.rip ? b.traceId : this.describeBlock(b);
    if (this.pos > this.flushAt) this.flush();
    const retired = c.icount - c.idleNs;
    const delta = retired - this.lastRetired;
    this.lastRetired = retired;
    const buf = this.buf;
    let p = this.pos;
    if (delta < 128) buf[p++] = TAG_BLOCK_SHORT | delta;
    else { buf[p++] = TAG_BLOCK; p = putVarint(buf, p, delta); }
    if (id < 128) buf[p++] = id;
    else p = putVarint(buf, p, id);
    this.pos = p;
    this.records++;
  }

  /** BLOCK_DEF: the block's address, bitness, instruction lengths and code bytes (from physical memory). */
  private describeBlock(b: Block): number {
    const id = this.nextBlockId++;
    b.traceWriter = this.serial; b.traceId = id; b.traceVa = this.cpu.rip;
    let codeLen = 0;
    for (const d of b.insns) codeLen += d.len;
    const need = 32 + b.insns.length * 2 + codeLen;
    if (this.pos + need > this.buf.length) this.flush();
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = TAG_BLOCK_DEF;
    p = putVarint(buf, p, id);
    p = putI64(buf, p, this.cpu.rip);
    buf[p++] = b.bits;
    p = putVarint(buf, p, b.insns.length);
    for (const d of b.insns) buf[p++] = d.len;
    // A block never crosses its page end except with its last instruction, whose tail is on pages[1].
    const mem = this.m.mem;
    const firstPart = Math.min(codeLen, 4096 - (b.phys & 0xfff));
    buf.set(mem.u8.subarray(b.phys, b.phys + firstPart), p);
    if (codeLen > firstPart) {
      const tail = b.pages.length > 1 ? b.pages[1] * 4096 : -1;
      if (tail >= 0) buf.set(mem.u8.subarray(tail, tail + codeLen - firstPart), p + firstPart);
      else buf.fill(0, p + firstPart, p + codeLen);
    }
    this.pos = p + codeLen;
    return id;
  }

  private taskChanged(lo: number, hi: number): void {
    this.taskLo = lo; this.taskHi = hi;
    const task = hi * 4294967296 + lo;
    if (this.pos > this.flushAt) this.flush();
    this.timed(TAG_TASK);
    this.pos = putI64(this.buf, this.pos, task);
    const who = task !== 0 && this.opts.describeTask ? this.opts.describeTask(task) : null;
    if (who === null) return;
    const key = `${who.pid} ${who.comm}`;
    if (this.known.get(task) === key) return;
    this.known.set(task, key);
    const comm = Buffer.from(who.comm, 'utf8').subarray(0, 256);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = TAG_TASK_INFO;
    p = putI64(buf, p, task);
    buf[p] = who.pid & 0xff; buf[p + 1] = (who.pid >>> 8) & 0xff; buf[p + 2] = (who.pid >>> 16) & 0xff; buf[p + 3] = (who.pid >>> 24) & 0xff;
    p = putString(buf, p + 4, comm);
    this.pos = p;
  }

  private event(vector: number, errorCode: number, kind: number): void {
    if (this.closed) return;
    const c = this.cpu;
    if (this.pos > this.flushAt) this.flush();
    this.timed(TAG_EVENT);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = vector & 0xff;
    buf[p++] = kind & 0xff;
    p = putVarint(buf, p, errorCode < 0 ? 0 : errorCode + 1);
    p = putI64(buf, p, c.rip);
    buf[p++] = c.cpl;
    if (vector === 14) p = putI64(buf, p, c.cr2);
    this.pos = p;
  }

  private detach(): void {
    if (this.m.blockObserver === this) this.m.blockObserver = null;
    this.m.hookDel(this.intrHook);
    this.closed = true;
  }

  /** END record, last write, rename over the file. */
  finish(why: string): TraceSummary {
    if (this.closed) throw new TraceWriteError(`${this.file}: the trace was already closed`);
    if (this.pos + 2 * 4096 > this.buf.length) this.flush();
    const records = this.records;
    this.timed(TAG_END);
    this.pos = putVarint(this.buf, this.pos, records);
    this.pos = putString(this.buf, this.pos, Buffer.from(why, 'utf8').subarray(0, 4096));
    this.flush();
    this.detach();
    try {
      fs.closeSync(this.fd);
      this.fd = -1;
      fs.renameSync(this.tmp, this.file);
    } catch (e) {
      try { fs.unlinkSync(this.tmp); } catch { /* already gone */ }
      throw new TraceWriteError(`${this.file}: cannot write the trace (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return {
      file: this.file, instructions: this.lastRetired - this.startRetired, records: records + 1,
      blocksDescribed: this.nextBlockId, bytes: this.written,
    };
  }

  /** Stop tracing and remove the temporary file; FILE is left as it was. */
  abort(): void {
    if (this.fd < 0) return;
    this.detach();
    try { fs.closeSync(this.fd); } catch { /* closed */ }
    this.fd = -1;
    try { fs.unlinkSync(this.tmp); } catch { /* gone */ }
  }
}
