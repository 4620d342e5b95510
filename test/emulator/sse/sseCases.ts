// Runs host-CPU SSE cases (fixtures/hostcpu/sse.c) through the whole emulator: each case is a real
// instruction encoding (iced-x86 encoder) executed by a Machine started with startDirect64, with
// CR4.OSXMMEXCPT set and an IDT whose #XM/#UD/#GP/#NM handlers are distinct HLTs.
//
// Roles: the destination is XMM3 (starting as the case's `a`), the source XMM12 (`b`) or, in every
// third case, the same bytes at [RDI] (16-byte aligned); GPR operands use R9, which starts as a
// pattern (GPR sources: b's low quadword). Compared bit for bit: the destination, MXCSR, the status
// flags, whether #XM was raised (and then that the destination is unchanged), and that the source
// survived. RCP/RSQRT are approximations: the host's and the emulator's results must both be within
// the SDM's bound (|relative error| <= 1.5 * 2^-12) of the exact value and agree on specials.
import { Code, Encoder, Instruction, MemoryOperand, Register } from 'iced-x86';
import { Machine, STOP_HALTED, type MachineOptions } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';
import { STATUS_FLAGS } from '../../../emulator/cpu/flags';
import { CR4_OSXMMEXCPT } from '../../../emulator/cpu/modes';
import { InsnDecoder } from '../../../emulator/decode/decoder';
import { bindForm } from '../../../emulator/exec/table';
import { GuestFault } from '../../../emulator/interrupts/guestFault';
import { makeCvt2pi, makeCvtpi2, MmxAccess } from '../../../emulator/exec/sseConvert';

export interface SseGolden {
  op: string;
  cpu: string;
  cases: [string, string, string, number, string, string, number, number, number][];
}

const CODE = 0x100000, DATA = 0x200000, IDT = 0x8000, HANDLERS = 0x1ff000;
const PATTERN = 0xa55a5aa5c33c3cc3n;
const DEST = 3, SRC = 12;
/** Handler addresses by vector (each a HLT). */
const VECTORS = [6, 7, 13, 19];
const handlerAt = (v: number): number => HANDLERS + 16 * VECTORS.indexOf(v);

const codeNames = Object.keys(Code).filter((k) => Number.isNaN(Number(k)));
function findCode(re: RegExp): Code {
  const n = codeNames.find((k) => re.test(k));
  if (n === undefined) throw new Error(`no iced Code matches ${re}`);
  return (Code as unknown as Record<string, number>)[n] as Code;
}

/** How an op's operands are laid out. */
type Shape = 'xx' | 'ximm' | 'gx' | 'xg' | 'xm';
export interface OpInfo { mnemonic: string; shape: Shape; gpr64: boolean; approx: boolean }

export function opInfo(op: string): OpInfo {
  const m = /^(.*?)(32|64)$/.exec(op);
  const base = m && /2si|si2/.test(op) ? m[1] : op;
  const gpr64 = m !== null && m[2] === '64' && /2si|si2/.test(op);
  let mnemonic = base, shape: Shape = 'xx';
  if (/^(psllw|pslld|psllq|psrlw|psrld|psrlq|psraw|psrad)i$/.test(op)) { mnemonic = op.slice(0, -1); shape = 'ximm'; }
  else if (op === 'pslldq' || op === 'psrldq') shape = 'ximm';
  else if (/2si$/.test(base) || /^(movmskps|movmskpd|pmovmskb|pextrw)$/.test(base)) shape = 'gx';
  else if (/^cvtsi2/.test(base) || base === 'pinsrw') shape = 'xg';
  else if (/^cvtpi2/.test(base)) shape = 'xm';
  return { mnemonic: mnemonic[0].toUpperCase() + mnemonic.slice(1), shape, gpr64, approx: /^(rcp|rsqrt)/.test(op) };
}

function instructionFor(info: OpInfo, imm: number, mem: boolean): Instruction {
  const M = info.mnemonic;
  const xmm = (n: number): Register => (Register.XMM0 + n) as Register;
  const rm = MemoryOperand.createBaseDisplSize(Register.RDI, 0n, 0);
  const gpr = info.gpr64 ? Register.R9 : Register.R9D;
  switch (info.shape) {
    case 'ximm': return Instruction.createRegU32(findCode(new RegExp(`^${M}_xmm_imm8$`)), xmm(DEST), imm);
    case 'gx': {
      const c = findCode(new RegExp(`^${M}_${info.gpr64 ? 'r64' : 'r32'}_xmm(m\\d+)?(_imm8)?$`));
      if (M === 'Pextrw') return Instruction.createRegRegU32(c, gpr, xmm(SRC), imm);
      return mem && !/^(Movmsk|Pmovmskb)/.test(M) ? Instruction.createRegMem(c, gpr, rm) : Instruction.createRegReg(c, gpr, xmm(SRC));
    }
    case 'xg': {
      if (M === 'Pinsrw') {
        const c = findCode(/^Pinsrw_xmm_r32m16_imm8$/);
        return mem ? Instruction.createRegMemU32(c, xmm(DEST), rm, imm) : Instruction.createRegRegU32(c, xmm(DEST), Register.R9D, imm);
      }
      const c = findCode(new RegExp(`^${M}_xmm_rm${info.gpr64 ? 64 : 32}$`));
      return mem ? Instruction.createRegMem(c, xmm(DEST), rm) : Instruction.createRegReg(c, xmm(DEST), gpr);
    }
    case 'xm': return Instruction.createRegMem(findCode(new RegExp(`^${M}_xmm_mmm64$`)), xmm(DEST), rm);
    default: {
      const c = findCode(new RegExp(`^${M}_xmm_xmmm(32|64|128)(_imm8)?$`));
      const hasImm = codeNames[c] !== undefined && /_imm8$/.test(Code[c]);
      if (hasImm) return mem ? Instruction.createRegMemU32(c, xmm(DEST), rm, imm) : Instruction.createRegRegU32(c, xmm(DEST), xmm(SRC), imm);
      return mem ? Instruction.createRegMem(c, xmm(DEST), rm) : Instruction.createRegReg(c, xmm(DEST), xmm(SRC));
    }
  }
}

const hx = (h: string): bigint => BigInt('0x' + h);
const cap = (s: string): string => s[0].toUpperCase() + s.slice(1);
const M32 = 0xffffffffn;

/** The four uint32 lanes of a 128-bit value. */
function lanes(v: bigint): number[] { return [0, 1, 2, 3].map((i) => Number((v >> BigInt(32 * i)) & M32)); }
function fromLanes(x: Uint32Array, r: number): bigint {
  let v = 0n;
  for (let i = 3; i >= 0; i--) v = (v << 32n) | BigInt(x[r * 4 + i]);
  return v;
}

const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
/** RCP/RSQRT lanes: both within the SDM bound of the exact value, or the same special. */
function approxAgree(op: string, host: bigint, emu: bigint, src: bigint, scalar: boolean): boolean {
  const H = lanes(host), E = lanes(emu), S = lanes(src);
  for (let i = 0; i < 4; i++) {
    if (scalar && i > 0) { if (H[i] !== E[i]) return false; continue; }
    u32[0] = S[i]; const x = f32[0];
    u32[0] = H[i]; const h = f32[0];
    u32[0] = E[i]; const e = f32[0];
    const exact = op.startsWith('rsqrt') ? 1 / Math.sqrt(x) : 1 / x;
    const finite = Number.isFinite(exact) && exact !== 0 && (H[i] & 0x7f800000) !== 0;
    if (!finite || !Number.isFinite(h)) { if (H[i] !== E[i] && !(Number.isNaN(h) && Number.isNaN(e))) return false; continue; }
    if (Math.abs(e - exact) > 1.5 * 2 ** -12 * Math.abs(exact)) return false;
  }
  return true;
}

export class SseBench {
  readonly m: Machine;
  private readonly at = new Map<string, number>();
  private next = CODE;
  private readonly enc = new Encoder(64);

  constructor(opts: MachineOptions = {}) {
    this.m = new Machine({ memory: 4 * 1024 * 1024, ...opts });
    startDirect64(this.m, { entry: CODE });
    const c = this.m.cpu;
    c.writeCr4(c.cr4 | CR4_OSXMMEXCPT);
    c.idtBase = IDT; c.idtLimit = 256 * 16 - 1;
    const dv = this.m.mem.dv;
    for (const v of VECTORS) {
      const h = handlerAt(v), e = IDT + 16 * v;
      dv.setUint32(e, (h & 0xffff) | (0x10 << 16), true);
      dv.setUint32(e + 4, ((h & 0xffff0000) | 0x8e00) >>> 0, true);
      this.m.physWrite(h, Uint8Array.of(0xf4));
    }
  }

  place(op: string, imm: number, mem: boolean): number {
    const key = `${op}/${imm}/${mem}`;
    let a = this.at.get(key);
    if (a === undefined) {
      const insn = instructionFor(opInfo(op), imm, mem);
      this.enc.encode(insn, BigInt(this.next));
      insn.free();
      a = this.next;
      this.m.physWrite(a, Uint8Array.from([...this.enc.takeBuffer(), 0xf4]));
      this.next += 32;
      this.at.set(key, a);
    }
    return a;
  }

  /**
   * The conversions with an MMX register operand (CVT(T)PS2PI, CVT(T)PD2PI, CVTPI2PS/PD from mm1):
   * the MMX state belongs to the x87 side, so the handler runs directly on the machine's CPU with a
   * stand-in MmxAccess (8 registers as lo/hi pairs) and the decoded instruction.
   */
  private runMmxCase(op: string, row: SseGolden['cases'][number], mem: boolean): string | null {
    const [MXI, A, B, , R, MXO, , , fault] = row;
    const toMm = /2pi$/.test(op), double = /pd/.test(op);
    const mm = new Uint32Array(16);
    let entered = 0;
    const access: MmxAccess = {
      enter: () => { entered++; },
      read: (_c, r, out) => { out[0] = mm[2 * r]; out[1] = mm[2 * r + 1]; },
      write: (_c, r, lo, hi) => { mm[2 * r] = lo; mm[2 * r + 1] = hi; },
    };
    const missing = (): void => { throw new Error(`${op}: handler reported an unimplemented form`); };
    const handler = toMm ? makeCvt2pi(double, op.startsWith('cvtt'), access, missing) : makeCvtpi2(double, access, missing);
    const M = op.replace(/mm$/, '');
    const rm = MemoryOperand.createBaseDisplSize(Register.RDI, 0n, 0);
    if (!toMm) mem = false; // the memory source form is the plain cvtpi2ps/pd op
    const insn = toMm
      ? (mem ? Instruction.createRegMem(findCode(new RegExp(`^${cap(M)}_mm_xmmm(64|128)$`)), Register.MM0, rm)
        : Instruction.createRegReg(findCode(new RegExp(`^${cap(M)}_mm_xmmm(64|128)$`)), Register.MM0, (Register.XMM0 + SRC) as Register))
      : Instruction.createRegReg(findCode(new RegExp(`^${cap(M)}_xmm_mmm64$`)), (Register.XMM0 + DEST) as Register, Register.MM1);
    this.enc.encode(insn, BigInt(CODE)); insn.free();
    const bytes = this.enc.takeBuffer();
    const d = new InsnDecoder(bindForm).decodeBlock(bytes, CODE, 64, bytes.length, 1)[0];
    const m = this.m, c = m.cpu, x = c.regs.xmm;
    const a = hx(A), b = hx(B);
    lanes(a).forEach((v, i) => { x[DEST * 4 + i] = v; });
    lanes(b).forEach((v, i) => { x[SRC * 4 + i] = v; });
    mm[0] = Number(PATTERN & M32); mm[1] = Number(PATTERN >> 32n);
    mm[2] = Number(b & M32); mm[3] = Number((b >> 32n) & M32);
    m.regWrite('rdi', BigInt(DATA));
    m.physWrite(DATA, Uint8Array.from(lanes(b).flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24])));
    c.mxcsr = Number(hx(MXI));
    let vector: number | undefined;
    try { handler(c, d); } catch (e) { if (e instanceof GuestFault) vector = e.vector; else throw e; }
    const where = `${op} ${mem ? 'mem' : 'reg'} mxcsr=${MXI} a=${A} b=${B}`;
    if (fault === 1 && vector !== 19) return `${where}: host raised #XM, emulator ${vector === undefined ? 'did not' : `raised vector ${vector}`}`;
    if (fault === 0 && vector !== undefined) return `${where}: emulator raised vector ${vector}, host did not`;
    if (entered !== 1) return `${where}: the x87-to-MMX transition ran ${entered} times`;
    const mxcsr = c.mxcsr.toString(16);
    if (mxcsr !== MXO) return `${where}: mxcsr ${mxcsr}, host ${MXO}`;
    const got = toMm ? (BigInt(mm[1]) << 32n) | BigInt(mm[0]) : fromLanes(x, DEST);
    const want = fault === 1 ? (toMm ? PATTERN : a) : hx(R);
    if (got !== want) return `${where}: result ${got.toString(16)}, host ${want.toString(16)}`;
    return null;
  }

  /** One case; null when the emulator agrees with the host. */
  runCase(op: string, row: SseGolden['cases'][number], mem: boolean): string | null {
    if (/2pi$|^cvtpi2p[sd]mm$/.test(op)) return this.runMmxCase(op, row, mem);
    const [MXI, A, B, imm, R, MXO, flagsIn, flags, fault] = row;
    const info = opInfo(op);
    if (info.shape === 'xm') mem = true; // the MMX-register form is not an XMM instruction
    if (info.shape === 'ximm' || (info.shape === 'gx' && /^(Movmsk|Pmovmskb|Pextrw)/.test(info.mnemonic))) mem = false;
    const m = this.m, c = m.cpu, x = c.regs.xmm;
    const at = this.place(op, imm, mem);
    const a = hx(A), b = hx(B);
    lanes(a).forEach((v, i) => { x[DEST * 4 + i] = v; });
    lanes(b).forEach((v, i) => { x[SRC * 4 + i] = v; });
    m.regWrite('r9', info.shape === 'xg' ? b & 0xffffffffffffffffn : PATTERN);
    m.regWrite('rdi', BigInt(DATA));
    m.regWrite('rsp', 0x80000n);
    m.physWrite(DATA, Uint8Array.from(lanes(b).flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24])));
    c.mxcsr = Number(hx(MXI));
    m.regWrite('rflags', BigInt(flagsIn | 2));
    m.regWrite('rip', BigInt(at));
    c.halted = false;
    const r = m.run(4);
    const where = `${op} ${mem ? 'mem' : 'reg'} imm=${imm} mxcsr=${MXI} a=${A} b=${B}`;
    if (r.reason !== STOP_HALTED) return `${where}: stopped with reason ${r.reason} (${r.message})`;
    const rip = Number(m.regRead('rip'));
    const vector = VECTORS.find((v) => rip === handlerAt(v) + 1);
    const mxcsr = c.mxcsr.toString(16);
    if (fault === 1 && vector !== 19) return `${where}: host raised #XM (mxcsr ${MXO}), emulator ${vector === undefined ? 'did not' : `raised vector ${vector}`} (mxcsr ${mxcsr})`;
    if (fault === 0 && vector !== undefined) return `${where}: emulator raised vector ${vector} (mxcsr ${mxcsr}), host did not (result ${R}, mxcsr ${MXO})`;
    if (mxcsr !== MXO) return `${where}: mxcsr ${mxcsr}, host ${MXO} (host result ${R})`;
    if (fromLanes(x, SRC) !== b) return `${where}: source register changed`;
    let got: bigint;
    if (info.shape === 'gx') got = m.regRead('r9');
    else got = fromLanes(x, DEST);
    const want = fault === 1 ? (info.shape === 'gx' ? PATTERN : a) : hx(R);
    if (info.approx && fault === 0) {
      if (!approxAgree(op, want, got, b, op.endsWith('ss'))) return `${where}: ${got.toString(16)} vs host ${R}: outside the approximation bound`;
    } else if (got !== want) return `${where}: result ${got.toString(16).padStart(32, '0')}, host ${want.toString(16).padStart(32, '0')}`;
    if (info.shape !== 'gx' && fault === 0 && info.shape !== 'ximm' && m.regRead('r9') !== (info.shape === 'xg' ? b & 0xffffffffffffffffn : PATTERN)) return `${where}: r9 changed`;
    const gotFlags = Number(m.regRead('rflags')) & STATUS_FLAGS;
    if (fault === 0 && gotFlags !== flags) return `${where}: flags ${gotFlags.toString(16)}, host ${flags.toString(16)}`;
    return null;
  }

  /** Every case of a golden (every third through memory); mismatches capped per op. */
  runGolden(g: SseGolden, cap = 8): { compared: number; mismatches: string[] } {
    const mismatches: string[] = [];
    let compared = 0, bad = 0;
    g.cases.forEach((row, i) => {
      const e = this.runCase(g.op, row, i % 3 === 2);
      compared++;
      if (e !== null) { bad++; if (mismatches.length < cap) mismatches.push(e); }
    });
    if (bad > cap) mismatches.push(`${g.op}: ${bad - cap} more mismatches`);
    return { compared, mismatches };
  }
}
