/**
 * One gdb client's session: acknowledgements, the command dispatcher and the stop replies, on top of a
 * byte transport (the server's socket, or a fake one in tests). All-stop mode, one CPU; guest tasks
 * are gdb threads (guestTasks.ts). Every packet gets a reply or is deliberately ignored (packets that
 * arrive while the guest runs; gdb only sends Ctrl-C then); a malformed packet gets `E..` or, at the
 * framing level, a NAK. Unknown packets get the empty reply, as the protocol asks.
 *
 * Error numbers follow gdbserver/QEMU habits: E14 (EFAULT) for memory that is not mapped, E22 (EINVAL)
 * for malformed arguments, E01 for a refused operation.
 */
import type { Machine } from '../machine';
import { PacketReader, encodePacket, MAX_PACKET, type FrameEvent } from './packetFraming';
import { bytesToHex, hexToBytes, textToHex, hexToText, parseHexU64, parseHexSmall, fromLeBytes, unescapeBinary } from './hexCodec';
import { FEATURE_FILES, GDB_REGISTERS } from './targetDescription';
import { readCpuRegisters, writeCpuRegister, encodeAllRegisters, encodeRegister, registerSize, isWritable, type RegisterValues } from './registerMap';
import { Breakpoints, Z_SW, Z_HW, Z_WRITE, Z_READ, Z_ACCESS } from './breakpoints';
import { Execution, SIGINT, type StopEvent } from './execution';
import { GuestTasks, type GuestTask } from './guestTasks';
import { MonitorCommands } from './monitorCommands';

const E_FAULT = 'E14', E_INVAL = 'E22', E_REFUSED = 'E01';
/** Longest memory transfer per packet: the hex reply must fit in PacketSize. */
export const MAX_MEM_XFER = (MAX_PACKET - 32) >> 1;

export interface SessionOptions {
  tasks?: GuestTasks | null;
  monitor?: MonitorCommands;
  /** Schedules the next continue slice (setImmediate in the server: lets the socket be polled). */
  defer?: (fn: () => void) => void;
  /** gdb sent `k` / vKill. */
  onKill?: () => void;
  /** gdb sent `D`: the session's breakpoints are gone, the guest should resume without a client. */
  onDetach?: () => void;
  /** Diagnostic lines (bad packets): default none. */
  log?: (line: string) => void;
}

/** Signed canonical number from a 64-bit protocol address; null when not canonical. */
export function toVa(v: bigint): number | null {
  const s = BigInt.asIntN(64, v);
  if (s < -(1n << 47n) || s >= (1n << 47n)) return null;
  return Number(s);
}

export class GdbSession {
  readonly bps: Breakpoints;
  readonly exec: Execution;
  readonly monitor: MonitorCommands;
  private readonly reader = new PacketReader();
  private readonly tasks: GuestTasks | null;
  private noAck = false;
  /** gdb asked for multiprocess thread ids (p<pid>.<tid>, one process: pid 1), as QEMU answers. */
  private multiprocess = false;
  private lastReply: Buffer | null = null;
  private running = false;
  private interruptRequested = false;
  private closed = false;
  /** Hg thread (0 = the running one). */
  private gThread = 0;
  private readonly defer: (fn: () => void) => void;
  /** Statistics: packets handled, bad frames NAKed. */
  packets = 0;
  badFrames = 0;

  constructor(readonly m: Machine, private readonly send: (b: Buffer) => void, private readonly opts: SessionOptions = {}) {
    this.bps = new Breakpoints(m);
    this.exec = new Execution(m, this.bps);
    this.tasks = opts.tasks ?? null;
    this.monitor = opts.monitor ?? new MonitorCommands();
    this.defer = opts.defer ?? ((fn) => setImmediate(fn));
  }

  get isRunning(): boolean { return this.running; }

  /** Bytes from the client. */
  receive(data: Uint8Array): void {
    for (const ev of this.reader.feed(data)) this.onFrame(ev);
  }

  /** The transport closed: drop breakpoints (the guest continues without us). */
  close(): void {
    this.closed = true;
    this.running = false;
    this.bps.clear();
  }

  private onFrame(ev: FrameEvent): void {
    switch (ev.kind) {
      case 'ack': return;
      case 'nak': if (this.lastReply !== null && !this.noAck) this.send(this.lastReply); return;
      case 'interrupt': if (this.running) this.interruptRequested = true; return;
      case 'bad':
        this.badFrames++;
        this.opts.log?.(`gdb: bad packet: ${ev.reason}`);
        if (!this.noAck) this.send(Buffer.from('-'));
        return;
      case 'packet':
        if (!this.noAck) this.send(Buffer.from('+'));
        if (this.running) { this.opts.log?.('gdb: packet ignored while the guest runs'); return; }
        this.packets++;
        this.dispatch(ev.payload);
        return;
    }
  }

  private reply(payload: string): void {
    const b = encodePacket(payload);
    this.lastReply = b;
    this.send(b);
  }

  // ---- threads ------------------------------------------------------------------------------------
  private taskList(): GuestTask[] {
    return this.tasks?.list(this.m) ?? [];
  }

  private currentTask(list: GuestTask[]): GuestTask | null {
    if (this.tasks === null || list.length === 0) return null;
    const cur = this.tasks.currentAddr(this.m);
    return list.find((t) => t.addr === cur) ?? null;
  }

  /** Thread ids gdb sees: the tasks', or a single thread 1 (the CPU) before there is a task list. */
  private threadIds(): { ids: number[]; current: number; list: GuestTask[] } {
    const list = this.taskList();
    const cur = this.currentTask(list);
    if (list.length === 0 || cur === null) return { ids: [1], current: 1, list: [] };
    return { ids: list.map((t) => t.tid), current: cur.tid, list };
  }

  /** Registers of thread `tid` (0/-1: the running one): the CPU's, or a sleeping task's saved frame. */
  private registersOf(tid: number): RegisterValues | null {
    const { current, list } = this.threadIds();
    if (tid <= 0 || tid === current) return readCpuRegisters(this.m);
    const t = list.find((x) => x.tid === tid);
    if (t === undefined || this.tasks === null) return null;
    return this.tasks.savedRegisters(this.m, t);
  }

  private fmtThread(tid: number): string {
    return this.multiprocess ? `p1.${tid.toString(16)}` : tid.toString(16);
  }

  private isCpuThread(tid: number): boolean { return tid <= 0 || tid === this.threadIds().current; }

  private parseThreadId(s: string): number | null {
    if (s === '-1') return -1;
    if (s.startsWith('p')) { // multiprocess form p<pid>.<tid>: take the tid
      const dot = s.indexOf('.');
      if (dot < 0) return parseHexSmall(s.slice(1), 0x7fffffff) === null ? null : 0; // p<pid>: any thread
      s = s.slice(dot + 1);
      if (s === '-1') return -1;
    }
    return parseHexSmall(s, 0x7fffffff);
  }

  // ---- stop replies ---------------------------------------------------------------------------------
  private stopReply(ev: StopEvent): string {
    const proc = this.multiprocess ? ';process:1' : '';
    if (ev.kind === 'exited') return `W${ev.code.toString(16).padStart(2, '0')}${proc}`;
    if (ev.kind === 'terminated') return `X${ev.signal.toString(16).padStart(2, '0')}${proc}`;
    const tid = this.threadIds().current;
    let s = `T${ev.signal.toString(16).padStart(2, '0')}`;
    const hit = ev.hit;
    if (hit !== null && hit.type >= Z_WRITE) {
      const name = hit.type === Z_WRITE ? 'watch' : hit.type === Z_READ ? 'rwatch' : 'awatch';
      s += `${name}:${BigInt.asUintN(64, BigInt(hit.addr)).toString(16)};`;
    }
    return `${s}thread:${this.fmtThread(tid)};`;
  }

  private lastStop: StopEvent = { kind: 'signal', signal: 5, hit: null, why: 'attached' };

  private finishStop(ev: StopEvent): void {
    this.running = false;
    this.interruptRequested = false;
    this.lastStop = ev;
    if (!this.closed) this.reply(this.stopReply(ev));
  }

  private resume(step: boolean): void {
    if (step) { this.finishStop(this.exec.step()); return; }
    this.running = true;
    this.interruptRequested = false;
    const pump = (): void => {
      if (!this.running || this.closed) return;
      if (this.interruptRequested) { this.finishStop({ kind: 'signal', signal: SIGINT, hit: null, why: 'interrupted' }); return; }
      const ev = this.exec.slice();
      if (ev !== null) { this.finishStop(ev); return; }
      this.defer(pump);
    };
    this.defer(pump);
  }

  /** Stop a run in progress as if gdb had sent Ctrl-C (used by the server, e.g. on shutdown). */
  interrupt(): void { if (this.running) this.interruptRequested = true; }

  // ---- dispatcher ---------------------------------------------------------------------------------
  private dispatch(p: string): void {
    const c = p[0];
    switch (c) {
      case '?': return this.reply(this.stopReply(this.lastStop));
      case 'g': return this.cmdReadAll();
      case 'G': return this.cmdWriteAll(p.slice(1));
      case 'p': return this.cmdReadReg(p.slice(1));
      case 'P': return this.cmdWriteReg(p.slice(1));
      case 'm': return this.cmdReadMem(p.slice(1));
      case 'M': return this.cmdWriteMem(p.slice(1), false);
      case 'X': return this.cmdWriteMem(p.slice(1), true);
      case 'c': case 's': case 'C': case 'S': return this.cmdResume(c, p.slice(1));
      case 'v': return this.cmdV(p);
      case 'Z': case 'z': return this.cmdPoint(c === 'Z', p.slice(1));
      case 'H': return this.cmdSetThread(p.slice(1));
      case 'T': {
        const tid = this.parseThreadId(p.slice(1));
        return this.reply(tid !== null && (tid <= 0 || this.threadIds().ids.includes(tid)) ? 'OK' : E_REFUSED);
      }
      case 'q': return this.cmdQuery(p);
      case 'Q': return this.cmdSet(p);
      case 'D': {
        this.bps.clear();
        this.reply('OK');
        this.opts.onDetach?.();
        return;
      }
      case 'k': this.opts.onKill?.(); return;
      default: return this.reply('');
    }
  }

  private cmdReadAll(): void {
    const regs = this.registersOf(this.gThread);
    this.reply(regs === null ? E_REFUSED : encodeAllRegisters(regs));
  }

  private cmdWriteAll(hex: string): void {
    if (!this.isCpuThread(this.gThread)) return this.reply(E_REFUSED);
    const cur = readCpuRegisters(this.m);
    let off = 0;
    const writes: [number, bigint][] = [];
    for (let i = 0; i < GDB_REGISTERS.length && off < hex.length; i++) {
      const size = registerSize(i);
      const part = hex.slice(off, off + 2 * size);
      off += 2 * size;
      if (part.length !== 2 * size) return this.reply(E_INVAL);
      if (/^x+$/i.test(part)) continue; // unavailable: leave alone
      const b = hexToBytes(part);
      if (b === null) return this.reply(E_INVAL);
      const v = fromLeBytes(b);
      if (cur[i] !== null && v !== cur[i]) {
        if (!isWritable(i)) return this.reply(E_REFUSED);
        writes.push([i, v]);
      }
    }
    if (off < hex.length) return this.reply(E_INVAL);
    for (const [i, v] of writes) writeCpuRegister(this.m, i, v);
    this.reply('OK');
  }

  private cmdReadReg(arg: string): void {
    const n = parseHexSmall(arg, 0xffff);
    if (n === null) return this.reply(E_INVAL);
    if (n >= GDB_REGISTERS.length) return this.reply(E_REFUSED);
    const regs = this.registersOf(this.gThread);
    this.reply(regs === null ? E_REFUSED : encodeRegister(regs, n));
  }

  private cmdWriteReg(arg: string): void {
    const eq = arg.indexOf('=');
    if (eq < 0) return this.reply(E_INVAL);
    const n = parseHexSmall(arg.slice(0, eq), 0xffff);
    const b = hexToBytes(arg.slice(eq + 1));
    if (n === null || b === null) return this.reply(E_INVAL);
    if (n >= GDB_REGISTERS.length || b.length !== registerSize(n)) return this.reply(E_INVAL);
    if (!this.isCpuThread(this.gThread)) return this.reply(E_REFUSED);
    this.reply(writeCpuRegister(this.m, n, fromLeBytes(b)) ? 'OK' : E_REFUSED);
  }

  /** `addr,len` → [va, len], or a reply string on error. */
  private parseAddrLen(s: string, maxLen: number): [number, number] | string {
    const comma = s.indexOf(',');
    if (comma < 0) return E_INVAL;
    const a = parseHexU64(s.slice(0, comma));
    const len = parseHexSmall(s.slice(comma + 1), 0xffffffff);
    if (a === null || len === null) return E_INVAL;
    if (len > maxLen) return E_INVAL;
    const va = toVa(a);
    if (va === null) return E_FAULT;
    if (len > 0 && toVa(a + BigInt(len - 1)) === null) return E_FAULT;
    return [va, len];
  }

  private cmdReadMem(arg: string): void {
    const r = this.parseAddrLen(arg, MAX_MEM_XFER);
    if (typeof r === 'string') return this.reply(r);
    const [va, len] = r;
    // Page by page: a read that runs into an unmapped page returns the bytes before it (gdb then asks
    // again from the gap and gets E14), as gdbserver does with partial reads.
    const parts: Uint8Array[] = [];
    let done = 0;
    while (done < len) {
      const at = va + done;
      const chunk = Math.min(len - done, 4096 - (((at % 4096) + 4096) % 4096));
      const b = this.m.virtRead(at, chunk);
      if (b === null) break;
      parts.push(b);
      done += chunk;
    }
    if (done === 0 && len > 0) return this.reply(E_FAULT);
    this.reply(parts.map(bytesToHex).join(''));
  }

  private cmdWriteMem(arg: string, binary: boolean): void {
    const colon = arg.indexOf(':');
    if (colon < 0) return this.reply(E_INVAL);
    const r = this.parseAddrLen(arg.slice(0, colon), MAX_PACKET);
    if (typeof r === 'string') return this.reply(r);
    const [va, len] = r;
    const body = arg.slice(colon + 1);
    const data = binary ? unescapeBinary(Buffer.from(body, 'latin1')) : hexToBytes(body);
    if (data === null || data.length !== len) return this.reply(E_INVAL);
    if (len === 0) return this.reply('OK');
    this.reply(this.m.virtWrite(va, data) ? 'OK' : E_FAULT);
  }

  private cmdResume(c: string, arg: string): void {
    // c [addr], s [addr], C sig[;addr], S sig[;addr]: the signal is dropped (no signal injection).
    let addrPart = arg;
    if (c === 'C' || c === 'S') {
      const semi = arg.indexOf(';');
      if (parseHexSmall(semi < 0 ? arg : arg.slice(0, semi), 0xff) === null) return this.reply(E_INVAL);
      addrPart = semi < 0 ? '' : arg.slice(semi + 1);
    }
    if (addrPart !== '') {
      const a = parseHexU64(addrPart);
      if (a === null || toVa(a) === null) return this.reply(E_INVAL);
      this.m.regWrite('rip', a);
    }
    if (this.exec.dead !== null) return this.finishStop(this.exec.dead);
    this.resume(c === 's' || c === 'S');
  }

  private cmdV(p: string): void {
    if (p === 'vCont?') return this.reply('vCont;c;C;s;S;t');
    if (p.startsWith('vCont;')) {
      // All-stop, one CPU: the first action decides; a step for any thread steps the CPU.
      const actions = p.slice(6).split(';');
      let step = false, cont = false;
      for (const a of actions) {
        const kind = a.split(':')[0];
        if (kind === 's' || kind.startsWith('S')) step = true;
        else if (kind === 'c' || kind.startsWith('C')) cont = true;
        else if (kind === 't') continue;
        else return this.reply(E_INVAL);
      }
      if (!step && !cont) return this.reply('OK');
      if (this.exec.dead !== null) return this.finishStop(this.exec.dead);
      return this.resume(step);
    }
    if (p === 'vMustReplyEmpty') return this.reply('');
    if (p.startsWith('vKill')) { this.reply('OK'); this.opts.onKill?.(); return; }
    this.reply('');
  }

  private cmdPoint(insert: boolean, arg: string): void {
    const f = arg.split(';')[0].split(',');
    if (f.length !== 3) return this.reply(E_INVAL);
    const type = parseHexSmall(f[0], 9);
    const a = parseHexU64(f[1]);
    const kind = parseHexSmall(f[2], 0xffffffff);
    if (type === null || a === null || kind === null) return this.reply(E_INVAL);
    if (type > Z_ACCESS) return this.reply('');
    const va = toVa(a);
    if (va === null) return this.reply(E_FAULT);
    const len = type === Z_SW || type === Z_HW ? 1 : kind;
    if (insert) this.reply(this.bps.insert(type, va, len) ? 'OK' : E_REFUSED);
    else { this.bps.remove(type, va, len); this.reply('OK'); }
  }

  private cmdSetThread(arg: string): void {
    const op = arg[0];
    const tid = this.parseThreadId(arg.slice(1));
    if ((op !== 'g' && op !== 'c') || tid === null) return this.reply(E_INVAL);
    if (tid > 0 && !this.threadIds().ids.includes(tid)) return this.reply(E_REFUSED);
    if (op === 'g') this.gThread = tid;
    this.reply('OK');
  }

  private cmdQuery(p: string): void {
    if (p.startsWith('qSupported')) {
      this.multiprocess = /(^|[:;])multiprocess\+/.test(p);
      return this.reply(`PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;vContSupported+;QStartNoAckMode+` +
        (this.multiprocess ? ';multiprocess+' : ''));
    }
    if (p === 'qAttached' || p.startsWith('qAttached:')) return this.reply('1');
    if (p === 'qC') return this.reply(`QC${this.fmtThread(this.threadIds().current)}`);
    if (p === 'qfThreadInfo') {
      const { ids } = this.threadIds();
      return this.reply('m' + ids.map((t) => this.fmtThread(t)).join(','));
    }
    if (p === 'qsThreadInfo') return this.reply('l');
    if (p.startsWith('qThreadExtraInfo,')) {
      const tid = this.parseThreadId(p.slice(17));
      if (tid === null) return this.reply(E_INVAL);
      const { list, current } = this.threadIds();
      const t = list.find((x) => x.tid === tid);
      const text = t !== undefined ? GuestTasks.describe(t, tid === current) : tid === 1 ? 'CPU 0' : null;
      return this.reply(text === null ? E_REFUSED : textToHex(text));
    }
    if (p.startsWith('qXfer:features:read:')) return this.cmdXferFeatures(p.slice(20));
    if (p.startsWith('qRcmd,')) return this.cmdMonitor(p.slice(6));
    if (p.startsWith('qSymbol')) return this.reply('OK');
    this.reply('');
  }

  private cmdXferFeatures(arg: string): void {
    const colon = arg.lastIndexOf(':');
    if (colon < 0) return this.reply(E_INVAL);
    const annex = arg.slice(0, colon);
    const [offS, lenS] = arg.slice(colon + 1).split(',');
    const off = parseHexSmall(offS ?? '', 0xffffffff);
    const len = parseHexSmall(lenS ?? '', 0xffffffff);
    if (off === null || len === null) return this.reply(E_INVAL);
    const doc = FEATURE_FILES.get(annex);
    if (doc === undefined) return this.reply('E00');
    const n = Math.min(len, MAX_PACKET - 64);
    if (off >= doc.length) return this.reply('l');
    const part = doc.slice(off, off + n);
    this.reply((off + n >= doc.length ? 'l' : 'm') + part);
  }

  private cmdMonitor(hex: string): void {
    const line = hexToText(hex);
    if (line === null) return this.reply(E_INVAL);
    const { list, current } = this.threadIds();
    const cur = list.find((t) => t.tid === current) ?? null;
    const sel = this.gThread > 0 ? list.find((t) => t.tid === this.gThread) ?? cur : cur;
    const out = this.monitor.run(line, { machine: this.m, tasks: list, selected: sel, current: cur });
    // Console output packets, in pieces that fit the packet size.
    const chunk = (MAX_PACKET - 16) >> 1;
    for (let i = 0; i < out.length; i += chunk) this.reply('O' + textToHex(out.slice(i, i + chunk)));
    this.reply('OK');
  }

  private cmdSet(p: string): void {
    if (p === 'QStartNoAckMode') { this.reply('OK'); this.noAck = true; return; }
    this.reply('');
  }
}
