// SSE exception delivery through the whole emulator: unmasked MXCSR exceptions raise #XM with
// CR4.OSXMMEXCPT and #UD without it (destination unchanged, flags recorded, RIP of the faulting
// instruction pushed); SSE is #UD without CR4.OSFXSR or with CR0.EM and #NM with CR0.TS; LDMXCSR
// #GP(0) on reserved bits; 16-byte alignment of legacy 128-bit memory operands; an unmasked
// pre-computation exception keeps the post-computation flags out of MXCSR; and the stores that the
// host goldens do not cover (MASKMOVDQU, MOVNTPS/PD/DQ, LDDQU).
import { Code, Encoder, Instruction, MemoryOperand, Register } from 'iced-x86';
import { Machine, STOP_HALTED } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';
import { CR0_EM, CR0_TS, CR4_OSFXSR, CR4_OSXMMEXCPT } from '../../../emulator/cpu/modes';

const CODE = 0x100000, DATA = 0x200000, IDT = 0x8000, HANDLERS = 0x1ff000;
const VECTORS = [6, 7, 13, 19];
const handlerAt = (v: number): number => HANDLERS + 16 * VECTORS.indexOf(v);
const X = (n: number): Register => (Register.XMM0 + n) as Register;
const MEM = (disp = 0): MemoryOperand => MemoryOperand.createBaseDisplSize(Register.RDI, BigInt(disp), disp === 0 ? 0 : 1);

interface Setup { cr0Set?: number; cr4Clear?: number; mxcsr?: number; xmm?: Record<number, number[]>; data?: number[] }
interface Outcome { vector: number | undefined; pushedRip: number; xmm: (n: number) => number[]; mxcsr: number; m: Machine }

function run(insns: Instruction[], s: Setup = {}): Outcome {
  const m = new Machine({ memory: 4 * 1024 * 1024 });
  startDirect64(m, { entry: CODE });
  const c = m.cpu;
  c.writeCr4((c.cr4 | CR4_OSXMMEXCPT) & ~(s.cr4Clear ?? 0));
  c.cr0 |= s.cr0Set ?? 0;
  c.idtBase = IDT; c.idtLimit = 256 * 16 - 1;
  for (const v of VECTORS) {
    const h = handlerAt(v), e = IDT + 16 * v;
    m.mem.dv.setUint32(e, (h & 0xffff) | (0x10 << 16), true);
    m.mem.dv.setUint32(e + 4, ((h & 0xffff0000) | 0x8e00) >>> 0, true);
    m.physWrite(h, Uint8Array.of(0xf4));
  }
  const enc = new Encoder(64);
  let at = CODE;
  for (const i of insns) { at += enc.encode(i, BigInt(at)); i.free(); }
  m.physWrite(CODE, Uint8Array.from([...enc.takeBuffer(), 0xf4]));
  for (const [r, v] of Object.entries(s.xmm ?? {})) v.forEach((w, i) => { c.regs.xmm[Number(r) * 4 + i] = w >>> 0; });
  if (s.data) s.data.forEach((w, i) => m.mem.dv.setUint32(DATA + 4 * i, w >>> 0, true));
  c.mxcsr = s.mxcsr ?? 0x1f80;
  m.regWrite('rdi', BigInt(DATA));
  const r = m.run(100);
  expect(r.reason).toBe(STOP_HALTED);
  const rip = Number(m.regRead('rip'));
  const vector = VECTORS.find((v) => rip === handlerAt(v) + 1);
  const rsp = Number(m.regRead('rsp'));
  // #GP pushes an error code below the RIP.
  const pushedRip = vector === undefined ? 0 : Number(m.mem.dv.getBigUint64(rsp + (vector === 13 ? 8 : 0), true));
  return { vector, pushedRip, xmm: (n) => [0, 1, 2, 3].map((i) => c.regs.xmm[n * 4 + i]), mxcsr: c.mxcsr, m };
}
const rr = (code: Code, a: number, b: number): Instruction => Instruction.createRegReg(code, X(a), X(b));

const ONE = 0x3f800000, TWO = 0x40000000, SNAN = 0x7f800001, TINY = 0x30800000; // 2^-30

describe('SSE exceptions', () => {
  test('unmasked precision exception: #XM with CR4.OSXMMEXCPT, destination unchanged, PE recorded', () => {
    const o = run([rr(Code.Addps_xmm_xmmm128, 1, 2)], {
      mxcsr: 0x1f80 & ~0x1000, xmm: { 1: [ONE, ONE, ONE, ONE], 2: [TINY, 0, 0, 0] },
    });
    expect(o.vector).toBe(19);
    expect(o.pushedRip).toBe(CODE);
    expect(o.xmm(1)).toEqual([ONE, ONE, ONE, ONE]);
    expect(o.mxcsr).toBe((0x1f80 & ~0x1000) | 0x20);
  });

  test('the same without CR4.OSXMMEXCPT is #UD', () => {
    const o = run([rr(Code.Addps_xmm_xmmm128, 1, 2)], {
      cr4Clear: CR4_OSXMMEXCPT, mxcsr: 0x1f80 & ~0x1000, xmm: { 1: [ONE, ONE, ONE, ONE], 2: [TINY, 0, 0, 0] },
    });
    expect(o.vector).toBe(6);
    expect(o.xmm(1)).toEqual([ONE, ONE, ONE, ONE]);
    expect(o.mxcsr & 0x3f).toBe(0x20);
  });

  test('masked exceptions only set flags; the result is written', () => {
    const o = run([rr(Code.Addps_xmm_xmmm128, 1, 2)], { xmm: { 1: [ONE, ONE, SNAN, 0], 2: [TINY, TWO, ONE, 0] } });
    expect(o.vector).toBeUndefined();
    expect(o.xmm(1)).toEqual([ONE, 0x40400000, 0x7fc00001, 0]);
    expect(o.mxcsr).toBe(0x1f80 | 0x21);
  });

  test('an unmasked invalid operation keeps the other lanes\' precision flag out of MXCSR', () => {
    const o = run([rr(Code.Addps_xmm_xmmm128, 1, 2)], {
      mxcsr: 0x1f80 & ~0x80, xmm: { 1: [ONE, SNAN, 0, 0], 2: [TINY, ONE, 0, 0] },
    });
    expect(o.vector).toBe(19);
    expect(o.mxcsr & 0x3f).toBe(0x01);
  });

  test('unmasked zero-divide in a scalar op traps only for the low lane', () => {
    const o = run([rr(Code.Divss_xmm_xmmm32, 1, 2)], {
      mxcsr: 0x1f80 & ~0x200, xmm: { 1: [ONE, ONE, ONE, ONE], 2: [ONE, 0, 0, 0] },
    });
    expect(o.vector).toBeUndefined();
    const t = run([rr(Code.Divss_xmm_xmmm32, 1, 2)], {
      mxcsr: 0x1f80 & ~0x200, xmm: { 1: [ONE, ONE, ONE, ONE], 2: [0, ONE, ONE, ONE] },
    });
    expect(t.vector).toBe(19);
    expect(t.mxcsr & 0x3f).toBe(0x04);
  });

  test('SSE is #UD without CR4.OSFXSR or with CR0.EM, #NM with CR0.TS (integer and float forms)', () => {
    for (const insn of [() => rr(Code.Addps_xmm_xmmm128, 1, 2), () => rr(Code.Paddb_xmm_xmmm128, 1, 2),
      () => rr(Code.Cvtps2pd_xmm_xmmm64, 1, 2), () => Instruction.createRegRegU32(Code.Shufps_xmm_xmmm128_imm8, X(1), X(2), 0x1b)]) {
      expect(run([insn()], { cr4Clear: CR4_OSFXSR }).vector).toBe(6);
      expect(run([insn()], { cr0Set: CR0_EM }).vector).toBe(6);
      const nm = run([insn()], { cr0Set: CR0_TS });
      expect(nm.vector).toBe(7);
      expect(nm.pushedRip).toBe(CODE);
    }
  });

  test('LDMXCSR: #GP(0) on bits above MXCSR_MASK (0xffff), DAZ and FTZ accepted', () => {
    const gp = run([Instruction.createMem(Code.Ldmxcsr_m32, MEM())], { data: [0x10000] });
    expect(gp.vector).toBe(13);
    expect(gp.mxcsr).toBe(0x1f80);
    const ok = run([Instruction.createMem(Code.Ldmxcsr_m32, MEM()), Instruction.createMem(Code.Stmxcsr_m32, MEM(4))], { data: [0xffff, 0] });
    expect(ok.vector).toBeUndefined();
    expect(ok.mxcsr).toBe(0xffff);
    expect(ok.m.mem.dv.getUint32(DATA + 4, true)).toBe(0xffff);
  });

  test('legacy 128-bit memory operands must be 16-byte aligned; scalar ones, LDDQU and MOVDDUP need not be', () => {
    expect(run([Instruction.createRegMem(Code.Addps_xmm_xmmm128, X(1), MEM(4))]).vector).toBe(13);
    expect(run([Instruction.createRegMem(Code.Paddw_xmm_xmmm128, X(1), MEM(8))]).vector).toBe(13);
    expect(run([Instruction.createRegMem(Code.Cvtpd2ps_xmm_xmmm128, X(1), MEM(8))]).vector).toBe(13);
    expect(run([Instruction.createMemReg(Code.Movntdq_m128_xmm, MEM(4), X(1))]).vector).toBe(13);
    expect(run([Instruction.createRegMem(Code.Addss_xmm_xmmm32, X(1), MEM(4))]).vector).toBeUndefined();
    expect(run([Instruction.createRegMem(Code.Movddup_xmm_xmmm64, X(1), MEM(4))]).vector).toBeUndefined();
    const l = run([Instruction.createRegMem(Code.Lddqu_xmm_m128, X(1), MEM(4))], { data: [1, 2, 3, 4, 5] });
    expect(l.vector).toBeUndefined();
    expect(l.xmm(1)).toEqual([2, 3, 4, 5]);
  });

  test('MASKMOVDQU writes exactly the selected bytes at RDI', () => {
    const mask = [0x80000080, 0x00ff0000, 0, 0x7f7f7f80];
    const o = run([Instruction.createMaskmovdqu(64, X(1), X(2), Register.None)], {
      xmm: { 1: [0x44332211, 0x88776655, 0xccbbaa99, 0x00ffeedd], 2: mask }, data: [-1, -1, -1, -1],
    });
    expect(o.vector).toBeUndefined();
    const got = [0, 1, 2, 3].map((i) => o.m.mem.dv.getUint32(DATA + 4 * i, true));
    expect(got).toEqual([0x44ffff11, 0xff77ffff, 0xffffffff, 0xffffffdd]);
  });

  test('MOVNTPS/MOVNTPD/MOVNTDQ store 16 bytes', () => {
    for (const code of [Code.Movntps_m128_xmm, Code.Movntpd_m128_xmm, Code.Movntdq_m128_xmm]) {
      const o = run([Instruction.createMemReg(code, MEM(16), X(5))], { xmm: { 5: [1, 2, 3, 0xdeadbeef] } });
      expect(o.vector).toBeUndefined();
      expect([0, 1, 2, 3].map((i) => o.m.mem.dv.getUint32(DATA + 16 + 4 * i, true))).toEqual([1, 2, 3, 0xdeadbeef]);
    }
  });

  test('CVTSS2SI with an unmasked invalid operation leaves the GPR alone', () => {
    const o = run([Instruction.createRegReg(Code.Cvtss2si_r64_xmmm32, Register.RBX, X(1))], {
      mxcsr: 0x1f80 & ~0x80, xmm: { 1: [0x7f800000, 0, 0, 0] },
    });
    expect(o.vector).toBe(19);
    expect(o.mxcsr & 0x3f).toBe(1);
  });
});

describe('SSE odds and ends', () => {
  test('CVTPI2PS/CVTPI2PD from memory: two int32, rounded under MXCSR (binary32), upper half kept', () => {
    const ps = run([Instruction.createRegMem(Code.Cvtpi2ps_xmm_mmm64, X(1), MEM())], {
      mxcsr: 0x1f80 | (3 << 13), xmm: { 1: [9, 9, 9, 9] }, data: [0x7fffffff, -3],
    });
    expect(ps.vector).toBeUndefined();
    expect(ps.xmm(1)).toEqual([0x4effffff, 0xc0400000, 9, 9]); // 2^31-1 rounded toward zero
    expect(ps.mxcsr & 0x3f).toBe(0x20);
    const pd = run([Instruction.createRegMem(Code.Cvtpi2pd_xmm_mmm64, X(1), MEM())], { data: [0x7fffffff, -3] });
    expect(pd.xmm(1)).toEqual([0xffc00000, 0x41dfffff, 0, 0xc0080000]);
    expect(pd.mxcsr).toBe(0x1f80);
  });

  test('MONITOR and MWAIT are #UD (qemu64 does not advertise them)', () => {
    const mwait = run([Instruction.create(Code.Mwait)]);
    expect(mwait.vector).toBe(6);
    expect(mwait.m.cpu.unimplemented.size).toBe(0);
  });
});
