// x87/MMX differential cases: seeded random instruction cases (iced-x86 encodings of every x87 and MMX
// instruction form, with register stacks, control words and memory operands full of edge values), the
// host runner (fixtures/hostcpu/x87run.c) and the emulator runner, and the comparison of the two.
//
// A case runs `fxrstor64 [image]; INSN; fxsave64 [out]` on both sides: the state before and after is a
// whole FXSAVE image, so FCW, FSW (TOP, C0-C3, flags, ES), tags, the eight registers, MXCSR and XMM0 are
// all compared. Memory operands are at [rdi] (112 bytes, enough for FNSAVE), GPR operands in rcx.
// The host is an AMD CPU: it writes FIP/FDP/FOP into the FXSAVE image only while an unmasked exception
// is pending (ES = 1), so those are compared only then (the emulator, like QEMU, always keeps them).
import { spawnSync } from 'child_process';
import { Code, Encoder, Instruction, MemoryOperand, Register } from 'iced-x86';
import { Machine, STOP_HALTED, type MachineOptions } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';
import { seededRandom } from '../../../emulator/seededRandom';

export const MEM_BYTES = 112;

/** One case: instruction bytes, input state (compact image), memory, RFLAGS and RCX in. */
export interface CaseIn { code: string; image: string; mem: string; flags: number; rcx: string }
/** Results: compact image, memory, RFLAGS, RAX, RCX, FIP and FDP deltas. */
export interface CaseOut { image: string; mem: string; flags: number; rax: string; rcx: string; fip: number; fdp: number }
export type GoldenRow = [string, string, string, number, string, string, string, number, string, string, number, number];

/** Compact image: bytes 0-7 (FCW FSW FTW FOP), the eight 10-byte registers, MXCSR, XMM0 and XMM1 low halves. */
export function compactImage(img: Uint8Array): string {
  const parts: number[] = [...img.subarray(0, 8)];
  for (let i = 0; i < 8; i++) parts.push(...img.subarray(32 + 16 * i, 42 + 16 * i));
  parts.push(...img.subarray(24, 28), ...img.subarray(160, 192));
  return Buffer.from(parts).toString('hex');
}
export function expandImage(hex: string): Uint8Array {
  const b = Buffer.from(hex, 'hex');
  const img = new Uint8Array(512);
  img.set(b.subarray(0, 8), 0);
  for (let i = 0; i < 8; i++) img.set(b.subarray(8 + 10 * i, 18 + 10 * i), 32 + 16 * i);
  img.set(b.subarray(88, 92), 24);
  img.set(b.subarray(92, 124), 160);
  return img;
}

const trimHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').replace(/(00)+$/, '');
const padHex = (h: string, n: number): string => h.padEnd(2 * n, '0');

// ---- the instruction forms ----------------------------------------------------------------------

const CODE_NAMES: string[] = [];
for (const [k, v] of Object.entries(Code)) if (typeof v === 'number') CODE_NAMES[v] = k;

/** Instruction groups: the golden files and the comparison rules follow these. */
export const GROUPS: Record<string, RegExp> = {
  arith: /^(Fi?(add|sub|subr|mul|div|divr)p?_|Fsqrt$|Fchs$|Fabs$|Frndint$|Fscale$|Fprem1?$|Fxtract$)/,
  compare: /^(Fu?comi?p{0,2}|Ficomp?)(_|$)|^Ftst$|^Fxam$/,
  load: /^(Fld_|Fstp?_(m|sti)|Fstpnce|Fild_|Fistt?p?_|Fbld|Fbstp|Fld(1|z|pi|l2e|l2t|lg2|ln2)$|Fxch_|Fcmov|Ffreep?_|Fincstp|Fdecstp|Fnop)/,
  control: /^(Fninit|Fnclex|Fldcw|Fnstcw|Fnstsw|Fnstenv|Fldenv|Fnsave|Frstor|Wait)(_|$)/,
  transcendental: /^(Fsin|Fcos|Fsincos|Fptan|Fpatan|F2xm1|Fyl2x|Fyl2xp1)$/,
  mmx: /^(Emms$|(Movd|Movq)_(mm_rm(32|64)|rm(32|64)_mm|mm_mmm64|mmm64_mm)$|Movntq_m64_mm$|Movq2dq_xmm_mm$|Movdq2q_mm_xmm$|Ps(ll|rl|ra)[wdq]_mm_|Pshufw_mm|Pinsrw_mm|Pextrw_r(32|64)_mm|Pmovmskb_r(32|64)_mm|Maskmovq|(Padd[bwdq]|Padds[bw]|Paddus[bw]|Psub[bwdq]|Psubs[bw]|Psubus[bw]|Pmullw|Pmulhw|Pmulhuw|Pmuludq|Pmaddwd|Psadbw|Pavg[bw]|Pminub|Pmaxub|Pminsw|Pmaxsw|Pcmp(eq|gt)[bwd]|Pand|Pandn|Por|Pxor|Packsswb|Packssdw|Packuswb|Punpck[lh](bw|wd|dq))_mm_mmm(64|32)$)/,
};

export function codesOf(group: string): string[] {
  // The waiting forms (FSAVE = WAIT + FNSAVE ...) are two instructions; their FN forms are tested.
  return CODE_NAMES.filter((n) => n !== undefined && GROUPS[group].test(n) && !/^(Fsave|Fstenv|Fstcw|Fstsw)_|^(Finit|Fclex)$/.test(n));
}

type Rng = () => number;
const pick = <T>(r: Rng, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const randBig = (r: Rng, bits: number): bigint => {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(r() * 65536));
  return BigInt.asUintN(bits, v);
};

/** Encode `name` with operands chosen at random; returns the bytes and whether it has a memory operand. */
function encode(r: Rng, name: string): { bytes: Uint8Array; mem: boolean } {
  if (name === 'Maskmovq_rDI_mm_mm') {
    return { bytes: Uint8Array.of(0x0f, 0xf7, 0xc0 | (Math.floor(r() * 8) << 3) | Math.floor(r() * 8)), mem: true };
  }
  const code = (Code as unknown as Record<string, number>)[name] as Code;
  const tokens = name.split('_').slice(1).filter((t) => !/^[A-F0-9]{4}$/.test(t));
  const ops: ({ k: 'r'; reg: Register } | { k: 'm' } | { k: 'i'; v: number })[] = [];
  const M = (): MemoryOperand => MemoryOperand.createBaseDisplSize(Register.RDI, 0n, 0);
  const sti = Math.floor(r() * 8);
  for (const t of tokens) {
    if (t === 'st0') ops.push({ k: 'r', reg: Register.ST0 });
    else if (t === 'sti') ops.push({ k: 'r', reg: Register.ST0 + (ops.length === 0 ? sti : Math.floor(r() * 8)) });
    else if (t === 'AX') ops.push({ k: 'r', reg: Register.AX });
    else if (t === 'mm') ops.push({ k: 'r', reg: Register.MM0 + Math.floor(r() * 8) });
    else if (t === 'xmm') ops.push({ k: 'r', reg: Register.XMM0 + Math.floor(r() * 2) });
    else if (t === 'r32') ops.push({ k: 'r', reg: Register.ECX });
    else if (t === 'r64') ops.push({ k: 'r', reg: Register.RCX });
    else if (t === 'imm8') ops.push({ k: 'i', v: r() < 0.3 ? Math.floor(r() * 70) : Math.floor(r() * 256) });
    else if (t === 'mmm64' || t === 'mmm32') ops.push(r() < 0.5 ? { k: 'm' } : { k: 'r', reg: Register.MM0 + Math.floor(r() * 8) });
    else if (t === 'rm32' || t === 'rm64' || t === 'r32m16' || t === 'r64m16') {
      ops.push(r() < 0.5 ? { k: 'm' } : { k: 'r', reg: t === 'rm64' || t === 'r64m16' ? Register.RCX : Register.ECX });
    } else if (/^m/.test(t)) ops.push({ k: 'm' });
    else throw new Error(`x87Cases: operand ${t} of ${name}`);
  }
  const sig = ops.map((o) => o.k).join('');
  const R = (i: number): Register => (ops[i] as { reg: Register }).reg;
  const I = (i: number): number => (ops[i] as { v: number }).v;
  let ins: Instruction;
  switch (sig) {
    case '': ins = Instruction.create(code); break;
    case 'r': ins = Instruction.createReg(code, R(0)); break;
    case 'm': ins = Instruction.createMem(code, M()); break;
    case 'rr': ins = Instruction.createRegReg(code, R(0), R(1)); break;
    case 'rm': ins = Instruction.createRegMem(code, R(0), M()); break;
    case 'mr': ins = Instruction.createMemReg(code, M(), R(1)); break;
    case 'ri': ins = Instruction.createRegU32(code, R(0), I(1)); break;
    case 'rri': ins = Instruction.createRegRegU32(code, R(0), R(1), I(2)); break;
    case 'rmi': ins = Instruction.createRegMemU32(code, R(0), M(), I(2)); break;
    default: throw new Error(`x87Cases: form ${sig} of ${name}`);
  }
  const enc = new Encoder(64);
  enc.encode(ins, 0n);
  ins.free();
  const bytes = enc.takeBuffer();
  enc.free();
  return { bytes, mem: sig.includes('m') };
}

// ---- values -------------------------------------------------------------------------------------

/** A random 80-bit value biased to edge cases: [sign|exponent, significand]. */
export function value80(r: Rng, near?: number): [number, bigint] {
  const s = r() < 0.5 ? 0x8000 : 0;
  const sigs = (): bigint => {
    const k = r();
    if (k < 0.45) return (1n << 63n) | randBig(r, 63);
    if (k < 0.55) return 1n << 63n;
    if (k < 0.62) return (1n << 64n) - 1n;
    if (k < 0.75) return ((1n << 63n) | randBig(r, 63)) & ~((1n << BigInt(pick(r, [11, 40, 10, 39, 12, 41]))) - 1n); // narrow precisions
    if (k < 0.85) { const p = pick(r, [24, 53, 64]); return (1n << 63n) | (randBig(r, 63) & ~((1n << BigInt(64 - p)) - 1n)) | (1n << BigInt(63 - p)); } // halfway points
    return (1n << 63n) | (randBig(r, 63) & randBig(r, 63));
  };
  const k = r();
  if (k < 0.05) return [s, 0n];
  if (k < 0.08) return [s | 0x7fff, 1n << 63n];
  if (k < 0.10) return [s | 0x7fff, (3n << 62n) | randBig(r, 62)]; // QNaN
  if (k < 0.12) return [s | 0x7fff, (1n << 63n) | (randBig(r, 62) | 1n)]; // SNaN
  if (k < 0.13) return [0xffff, 3n << 62n]; // real indefinite
  if (k < 0.17) return [s, randBig(r, 63) >> BigInt(Math.floor(r() * 60))]; // denormal
  if (k < 0.18) return [s, (1n << 63n) | randBig(r, 63)]; // pseudo-denormal
  if (k < 0.19) return [s | (1 + Math.floor(r() * 0x7ffe)), randBig(r, 63)]; // unnormal
  if (k < 0.195) return [s | 0x7fff, randBig(r, 63)]; // pseudo-infinity / pseudo-NaN
  let e: number;
  const ek = r();
  if (near !== undefined && ek < 0.5) e = Math.min(0x7ffe, Math.max(1, near + Math.floor(r() * 140) - 70));
  else if (ek < 0.7) e = 16383 + Math.floor(r() * 140) - 70;
  else if (ek < 0.8) e = 1 + Math.floor(r() * 80);
  else if (ek < 0.9) e = 0x7ffe - Math.floor(r() * 80);
  else e = 1 + Math.floor(r() * 0x7ffe);
  return [s | e, sigs()];
}

function memoryBytes(r: Rng, name: string): Uint8Array {
  const b = new Uint8Array(MEM_BYTES);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < 16; i++) b[i] = Math.floor(r() * 256);
  if (/m32fp/.test(name)) {
    const k = r();
    const v = k < 0.1 ? 0 : k < 0.2 ? 0x7f800000 : k < 0.3 ? 0x7fc00000 | Math.floor(r() * 0x3fffff) : k < 0.4 ? 0x7f800001 + Math.floor(r() * 0x3ffffe)
      : k < 0.5 ? Math.floor(r() * 0x7fffff) : (Math.floor(r() * 0x7fffffff) & 0x3fffffff) | 0x3c000000;
    dv.setUint32(0, (v | (r() < 0.5 ? 0x80000000 : 0)) >>> 0, true);
  } else if (/m64fp/.test(name)) {
    const k = r();
    let hi: number;
    if (k < 0.1) hi = 0; else if (k < 0.2) hi = 0x7ff00000; else if (k < 0.3) hi = 0x7ff80000 | Math.floor(r() * 0x7ffff);
    else if (k < 0.4) hi = 0x7ff00000 | (1 + Math.floor(r() * 0x7fffe)); else if (k < 0.5) hi = Math.floor(r() * 0xfffff);
    else hi = 0x3f000000 + Math.floor(r() * 0x2000000);
    dv.setUint32(4, (hi | (r() < 0.5 ? 0x80000000 : 0)) >>> 0, true);
    if (k < 0.2) dv.setUint32(0, 0, true);
  } else if (/m80fp/.test(name)) {
    const [se, m] = value80(r);
    dv.setBigUint64(0, m, true); dv.setUint16(8, se, true);
  } else if (/int$/.test(name) && r() < 0.4) {
    const edges = [0n, 1n, -1n, 0x7fffn, -0x8000n, 0x7fffffffn, -0x80000000n, 0x7fffffffffffffffn, -0x8000000000000000n];
    dv.setBigUint64(0, BigInt.asUintN(64, pick(r, edges)), true);
  } else if (/m80bcd/.test(name)) {
    for (let i = 0; i < 9; i++) b[i] = Math.floor(r() * 10) * 16 + Math.floor(r() * 10);
    b[9] = r() < 0.5 ? 0x80 : 0;
  } else if (/Fldcw|Frstor|Fldenv/.test(name)) {
    dv.setUint16(0, (Math.floor(r() * 0x1000) & 0xf3f) | 0x3f | (r() < 0.2 ? 0 : 0), true);
    if (/Frstor|Fldenv/.test(name)) {
      for (let i = 16; i < MEM_BYTES; i++) b[i] = Math.floor(r() * 256);
      const small = /14|94/.test(name);
      dv.setUint16(0, 0x37f | (Math.floor(r() * 4) << 10) | (pick(r, [0, 2, 3]) << 8), true);
      dv.setUint16(small ? 2 : 4, Math.floor(r() * 0x10000) & 0x7f00 & ~0x80, true);
      if (/Frstor/.test(name)) {
        const base = small ? 14 : 28;
        for (let i = 0; i < 8; i++) { const [se, m] = value80(r); dv.setBigUint64(base + 10 * i, m, true); dv.setUint16(base + 10 * i + 8, se, true); }
      }
    }
  }
  return b;
}

/** A random starting image: control word, status word with TOP and masked sticky flags, tags, registers. */
function startImage(r: Rng, name: string, group: string): Uint8Array {
  const img = new Uint8Array(512);
  const dv = new DataView(img.buffer);
  const masks = r() < 0.85 ? 0x3f : Math.floor(r() * 64);
  const pc = pick(r, [3, 3, 2, 0, 1]);
  const rc = Math.floor(r() * 4);
  const cw = masks | 0x40 | (pc << 8) | (rc << 10);
  const top = Math.floor(r() * 8);
  const flags = Math.floor(r() * 128) & masks & (r() < 0.5 ? 0 : 0x7f);
  const cc = Math.floor(r() * 16);
  const sw = flags | ((cc & 7) << 8) | ((cc >> 3) << 14) | (top << 11);
  dv.setUint16(0, cw, true);
  dv.setUint16(2, sw, true);
  let tags = 0;
  const mmx = group === 'mmx';
  let near: number | undefined;
  for (let st = 0; st < 8; st++) {
    const phys = (top + st) & 7;
    const used = st <= 1;
    const empty = mmx ? r() < 0.1 : st === 7 ? r() < 0.85 : used ? r() < 0.07 : r() < 0.2;
    if (!empty) tags |= 1 << phys;
    let [se, m] = mmx && r() < 0.8 ? [Math.floor(r() * 0x10000), randBig(r, 64)] : value80(r, near);
    // F2XM1 and FYL2XP1 are defined only for |x| <= 1 and |x| < 1 - sqrt(2)/2: keep ST(0) there.
    if (st === 0 && (name === 'F2xm1' || name === 'Fyl2xp1') && (se & 0x7fff) !== 0x7fff) {
      se = (se & 0x8000) | Math.min(se & 0x7fff, name === 'F2xm1' ? 0x3ffe : 0x3ffc);
    }
    if (st === 0) near = se & 0x7fff;
    // FXSAVE stores registers in ST order.
    dv.setBigUint64(32 + 16 * st, m, true);
    dv.setUint16(40 + 16 * st, se, true);
  }
  img[4] = tags;
  dv.setUint32(24, 0x1f80, true);
  for (let i = 160; i < 192; i++) img[i] = Math.floor(r() * 256);
  void name;
  return img;
}

/** Cases for a group: every instruction form of the group, `perForm` random cases each. */
export function makeCases(group: string, seed: number, perForm: number): CaseIn[] {
  const r = seededRandom(seed);
  const out: CaseIn[] = [];
  for (const name of codesOf(group)) {
    for (let i = 0; i < perForm; i++) {
      const { bytes } = encode(r, name);
      const img = startImage(r, name, group);
      const mem = memoryBytes(r, name);
      const flags = 0x2 | (r() < 0.5 ? 1 : 0) | (r() < 0.5 ? 0x40 : 0) | (r() < 0.5 ? 0x4 : 0) | (r() < 0.3 ? 0x880 : 0);
      out.push({ code: Buffer.from(bytes).toString('hex'), image: compactImage(img), mem: trimHex(mem), flags,
        rcx: randBig(r, 64).toString(16) });
    }
  }
  return out;
}

// ---- runners ------------------------------------------------------------------------------------

/** Run cases on the host with a built x87run binary. */
export function runHost(bin: string, cases: CaseIn[]): CaseOut[] {
  const lines = cases.map((c) => `${c.code} ${Buffer.from(expandImage(c.image)).toString('hex')} ${padHex(c.mem, MEM_BYTES)} ${c.flags.toString(16)} ${c.rcx}\n`).join('');
  const r = spawnSync(bin, [], { input: lines, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`x87run failed: ${r.stderr}`);
  const rows = r.stdout.trim().split('\n');
  if (rows.length !== cases.length) throw new Error(`x87run: ${rows.length} results for ${cases.length} cases`);
  return rows.map((row) => {
    const [img, mem, fl, rax, rcx, fip, fdp] = row.split(' ');
    return { image: compactImage(Buffer.from(img, 'hex')), mem: trimHex(Buffer.from(mem, 'hex')), flags: parseInt(fl, 16),
      rax, rcx, fip: Number(fip), fdp: Number(fdp) };
  });
}

const CODE_AT = 0x100000, IMAGE_IN = 0x200000, IMAGE_OUT = 0x201000, MEM_AT = 0x202000, IDT = 0x8000, TRAP = 0x1ff000;

/** The emulator side: one Machine reused for every case. */
export class EmulatorRunner {
  readonly m: Machine;
  constructor(opts: MachineOptions = {}) {
    this.m = new Machine({ memory: 4 * 1024 * 1024, ...opts });
    startDirect64(this.m, { entry: CODE_AT });
    const c = this.m.cpu;
    c.idtBase = IDT; c.idtLimit = 256 * 16 - 1;
    // Every vector: an interrupt gate to a HLT at TRAP + vector, so a fault is seen as its vector.
    const dv = this.m.mem.dv;
    for (let v = 0; v < 32; v++) {
      const h = TRAP + v;
      dv.setUint32(IDT + 16 * v, (h & 0xffff) | (0x10 << 16), true);
      dv.setUint32(IDT + 16 * v + 4, ((h & 0xffff0000) | 0x8e00) >>> 0, true);
    }
    this.m.physWrite(TRAP, new Uint8Array(32).fill(0xf4));
  }

  /** Run `code; hlt` from the current state: -1 when it reached the HLT, else the vector of the exception. */
  exec(code: number[]): number {
    const m = this.m;
    m.physWrite(CODE_AT, Uint8Array.from([...code, 0xf4]));
    m.regWrite('rip', BigInt(CODE_AT)); m.regWrite('rsp', 0x80000n);
    m.cpu.halted = false;
    const res = m.run(1000);
    if (res.reason !== STOP_HALTED) throw new Error(`stopped with reason ${res.reason} (${res.message})`);
    const rip = Number(m.regRead('rip'));
    return rip === CODE_AT + code.length + 1 ? -1 : rip - TRAP - 1;
  }

  run(k: CaseIn): CaseOut | string {
    const m = this.m;
    const code = Buffer.from(k.code, 'hex');
    // fxrstor64 [rsi]; INSN; fxsave64 [rdx]; hlt
    const bytes = Uint8Array.from([0x48, 0x0f, 0xae, 0x0e, ...code, 0x48, 0x0f, 0xae, 0x02, 0xf4]);
    m.physWrite(CODE_AT, bytes);
    m.physWrite(IMAGE_IN, expandImage(k.image));
    m.physWrite(IMAGE_OUT, new Uint8Array(512));
    m.physWrite(MEM_AT, Buffer.from(padHex(k.mem, MEM_BYTES), 'hex'));
    m.regWrite('rsi', BigInt(IMAGE_IN)); m.regWrite('rdx', BigInt(IMAGE_OUT)); m.regWrite('rdi', BigInt(MEM_AT));
    m.regWrite('rax', 0n); m.regWrite('rcx', BigInt('0x' + k.rcx)); m.regWrite('rsp', 0x80000n);
    m.regWrite('rflags', BigInt(k.flags));
    m.regWrite('rip', BigInt(CODE_AT));
    m.cpu.halted = false;
    const res = m.run(10);
    if (res.reason !== STOP_HALTED) return `stopped with reason ${res.reason} (${res.message})`;
    const rip = Number(m.regRead('rip'));
    if (rip !== CODE_AT + bytes.length) return `fault: vector ${rip - TRAP - 1}`;
    const out = m.mem.u8.slice(IMAGE_OUT, IMAGE_OUT + 512);
    const odv = new DataView(out.buffer);
    return {
      image: compactImage(out), mem: trimHex(m.mem.u8.slice(MEM_AT, MEM_AT + MEM_BYTES)),
      flags: Number(m.regRead('rflags')), rax: m.regRead('rax').toString(16), rcx: m.regRead('rcx').toString(16),
      fip: Number(odv.getBigInt64(8, true)) - (CODE_AT + 4), fdp: Number(odv.getBigInt64(16, true)) - MEM_AT,
    };
  }
}

// ---- comparison ---------------------------------------------------------------------------------

const STATUS = 0x8d5;

/** Differences between host and emulator results for a case ('' when they agree). */
export function diff(group: string, k: CaseIn, host: CaseOut, emu: CaseOut, ulpBound = 0): string {
  const h = Buffer.from(host.image, 'hex'), e = Buffer.from(emu.image, 'hex');
  const bad: string[] = [];
  const hsw = h.readUInt16LE(2), esw = e.readUInt16LE(2);
  const es = (hsw & 0x80) !== 0;
  const fields: [string, number, number][] = [['fcw', 0, 2], ['ftw', 4, 1], ['mxcsr', 88, 4], ['xmm', 92, 32]];
  for (const [n, o, len] of fields) if (!h.subarray(o, o + len).equals(e.subarray(o, o + len))) bad.push(`${n} ${h.subarray(o, o + len).toString('hex')} vs ${e.subarray(o, o + len).toString('hex')}`);
  let swMask = 0xffff;
  if (group === 'transcendental' && process.env.X87_STRICT === undefined) swMask &= ~0x200; // C1 (round-up) follows the host's rounding, within 1 ulp
  if ((hsw & swMask) !== (esw & swMask)) bad.push(`fsw ${hsw.toString(16)} vs ${esw.toString(16)}`);
  if (es) {
    if (h.readUInt16LE(6) !== e.readUInt16LE(6)) bad.push(`fop ${h.readUInt16LE(6).toString(16)} vs ${e.readUInt16LE(6).toString(16)}`);
    if (host.fip !== emu.fip) bad.push(`fip delta ${host.fip} vs ${emu.fip}`);
    if (host.fdp >= 0 && host.fdp < MEM_BYTES && host.fdp !== emu.fdp) bad.push(`fdp delta ${host.fdp} vs ${emu.fdp}`);
  }
  for (let i = 0; i < 8; i++) {
    const hr = h.subarray(8 + 10 * i, 18 + 10 * i), er = e.subarray(8 + 10 * i, 18 + 10 * i);
    if (hr.equals(er)) continue;
    if (ulpBound > 0 && ulps(hr, er) <= BigInt(ulpBound)) continue;
    bad.push(`st${i} ${hex80(hr)} vs ${hex80(er)}`);
  }
  if (host.mem !== emu.mem) bad.push(`mem ${host.mem} vs ${emu.mem}`);
  if ((host.flags & STATUS) !== (emu.flags & STATUS)) bad.push(`rflags ${host.flags.toString(16)} vs ${emu.flags.toString(16)}`);
  if (BigInt('0x' + host.rax) !== BigInt('0x' + emu.rax)) bad.push(`rax ${host.rax} vs ${emu.rax}`);
  if (BigInt('0x' + host.rcx) !== BigInt('0x' + emu.rcx)) bad.push(`rcx ${host.rcx} vs ${emu.rcx}`);
  if (bad.length === 0) return '';
  return `${group} ${k.code} in ${k.image} mem ${k.mem} flags ${k.flags.toString(16)}: ${bad.join('; ')}`;
}

/** Distance in units of the last place between two finite 80-bit values of one sign (exponent steps included). */
export function ulps(a: Buffer, b: Buffer): bigint {
  const key = (x: Buffer): bigint => {
    const se = x.readUInt16LE(8), m = x.readBigUInt64LE(0);
    return BigInt(Math.max(1, se & 0x7fff)) * (1n << 63n) + (m & ((1n << 63n) - 1n)) - (m >> 63n === 0n ? 1n << 63n : 0n);
  };
  if ((a.readUInt16LE(8) ^ b.readUInt16LE(8)) & 0x8000 || (a.readUInt16LE(8) & 0x7fff) === 0x7fff) return 1n << 80n;
  const d = key(a) - key(b);
  return d < 0n ? -d : d;
}

const hex80 = (b: Buffer): string => b.readUInt16LE(8).toString(16).padStart(4, '0') + ':' + b.readBigUInt64LE(0).toString(16).padStart(16, '0');

export const toRow = (k: CaseIn, o: CaseOut): GoldenRow =>
  [k.code, k.image, k.mem, k.flags, k.rcx, o.image, o.mem, o.flags, o.rax, o.rcx, o.fip, o.fdp];
export const fromRow = (r: GoldenRow): [CaseIn, CaseOut] => [
  { code: r[0], image: r[1], mem: r[2], flags: r[3], rcx: r[4] },
  { image: r[5], mem: r[6], flags: r[7], rax: r[8], rcx: r[9], fip: r[10], fdp: r[11] },
];

/** Random cases per instruction form in the recorded goldens. */
export const GOLDEN_PER_FORM: Record<string, number> = { arith: 60, compare: 50, load: 50, control: 40, transcendental: 60, mmx: 25 };

/** Units in the last place (64-bit significand) allowed between host and emulator results, by group. */
export const ULP_BOUND: Record<string, number> = { transcendental: Number(process.env.X87_ULP_BOUND ?? 1) };
