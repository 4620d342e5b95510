// The FPU's system side: CR0.EM/TS/MP availability faults (#NM, #UD), #MF for a pending unmasked
// exception at the next waiting instruction (CR0.NE = 1), FXSAVE/FXRSTOR alignment and MXCSR checks and
// their layout, and the FPU state as plain data (saveState/loadState).
import { EmulatorRunner } from './x87Cases';
import { X87State } from '../../../emulator/cpu/x87State';
import { CR0_EM, CR0_MP, CR0_NE, CR0_TS } from '../../../emulator/cpu/modes';

const DATA = 0x202000;
const FNINIT = [0xdb, 0xe3], FWAIT = [0x9b], EMMS = [0x0f, 0x77], FLD1 = [0xd9, 0xe8], FLDZ = [0xd9, 0xee];
const FDIVP = [0xde, 0xf9], FLDCW_RDI = [0xd9, 0x2f], FNSTSW_AX = [0xdf, 0xe0];
const FXSAVE64_RDI = [0x48, 0x0f, 0xae, 0x07], FXRSTOR64_RDI = [0x48, 0x0f, 0xae, 0x0f], FXSAVE_RDI = [0x0f, 0xae, 0x07];
const MOVQ_MM0_MM1 = [0x0f, 0x6f, 0xc1];

function machine(): EmulatorRunner {
  const r = new EmulatorRunner();
  r.m.regWrite('rdi', BigInt(DATA));
  return r;
}

describe('availability (CR0.EM, TS, MP)', () => {
  test('x87 instructions: #NM with TS or EM', () => {
    const r = machine();
    expect(r.exec(FNINIT)).toBe(-1);
    r.m.cpu.cr0 |= CR0_TS;
    expect(r.exec(FNINIT)).toBe(7);
    r.m.cpu.cr0 = (r.m.cpu.cr0 & ~CR0_TS) | CR0_EM;
    expect(r.exec(FLD1)).toBe(7);
  });
  test('WAIT: #NM only with both MP and TS', () => {
    const r = machine();
    r.m.cpu.cr0 = (r.m.cpu.cr0 & ~CR0_MP) | CR0_TS;
    expect(r.exec(FWAIT)).toBe(-1);
    r.m.cpu.cr0 |= CR0_MP;
    expect(r.exec(FWAIT)).toBe(7);
  });
  test('MMX: #UD with EM, #NM with TS; FXSAVE: #NM with EM or TS', () => {
    const r = machine();
    expect(r.exec(MOVQ_MM0_MM1)).toBe(-1);
    r.m.cpu.cr0 |= CR0_EM;
    expect(r.exec(EMMS)).toBe(6);
    expect(r.exec(FXSAVE64_RDI)).toBe(7);
    r.m.cpu.cr0 = (r.m.cpu.cr0 & ~CR0_EM) | CR0_TS;
    expect(r.exec(MOVQ_MM0_MM1)).toBe(7);
    expect(r.exec(FXSAVE64_RDI)).toBe(7);
  });
});

describe('#MF', () => {
  function divideByZeroUnmasked(r: EmulatorRunner): void {
    r.m.physWrite(DATA, Uint8Array.of(0x7b, 0x03)); // FCW 037BH: zero-divide unmasked
    expect(r.exec([...FNINIT, ...FLDCW_RDI, ...FLD1, ...FLDZ, ...FDIVP])).toBe(-1);
  }
  test('a pending unmasked exception raises #MF at the next waiting instruction, not at no-wait ones', () => {
    const r = machine();
    divideByZeroUnmasked(r);
    expect(r.exec(FNSTSW_AX)).toBe(-1);
    const sw = Number(r.m.regRead('rax') & 0xffffn);
    expect(sw & 0x84).toBe(0x84); // ZE and ES
    expect(r.exec(FWAIT)).toBe(16);
    expect(r.exec(FLD1)).toBe(16);
    // FNCLEX clears it; then waiting instructions run.
    expect(r.exec([0xdb, 0xe2, ...FWAIT, ...FLD1])).toBe(-1);
  });
  test('with CR0.NE = 0 (legacy FERR#/IRQ13, not modelled) no #MF is raised', () => {
    const r = machine();
    r.m.cpu.cr0 &= ~CR0_NE;
    divideByZeroUnmasked(r);
    expect(r.exec(FWAIT)).toBe(-1);
  });
});

describe('FXSAVE/FXRSTOR', () => {
  test('misaligned operands and reserved MXCSR bits raise #GP', () => {
    const r = machine();
    r.m.regWrite('rdi', BigInt(DATA + 8));
    expect(r.exec(FXSAVE64_RDI)).toBe(13);
    r.m.regWrite('rdi', BigInt(DATA));
    expect(r.exec(FXSAVE64_RDI)).toBe(-1);
    const dv = r.m.mem.dv;
    dv.setUint32(DATA + 24, 0x11f80, true);
    expect(r.exec(FXRSTOR64_RDI)).toBe(13);
    dv.setUint32(DATA + 24, 0x1f80, true);
    expect(r.exec(FXRSTOR64_RDI)).toBe(-1);
  });
  test('layout: control/status/tag words, MXCSR_MASK as qemu64 reports it, registers in ST order, XMM0-15; 32-bit form with FCS/FDS', () => {
    const r = machine();
    const c = r.m.cpu;
    c.regs.xmm[15 * 4 + 3] = 0xdeadbeef;
    c.mxcsr = 0x1f80;
    expect(r.exec([...FNINIT, ...FLD1, ...FLDZ, ...FXSAVE64_RDI])).toBe(-1);
    const dv = r.m.mem.dv;
    expect(dv.getUint16(DATA, true)).toBe(0x037f);
    expect(dv.getUint16(DATA + 2, true)).toBe(6 << 11); // TOP = 6
    expect(dv.getUint8(DATA + 4)).toBe(0xc0); // physical registers 6 and 7 in use
    expect(dv.getUint16(DATA + 6, true)).toBe(0x1ee); // last opcode: D9 EE
    expect(dv.getUint32(DATA + 24, true)).toBe(0x1f80);
    expect(dv.getUint32(DATA + 28, true)).toBe(0xffff);
    expect(dv.getUint16(DATA + 32 + 8, true)).toBe(0); // ST0 = +0.0
    expect(dv.getUint16(DATA + 48 + 8, true)).toBe(0x3fff); // ST1 = 1.0
    expect(dv.getBigUint64(DATA + 48, true)).toBe(1n << 63n);
    expect(dv.getUint32(DATA + 160 + 16 * 15 + 12, true)).toBe(0xdeadbeef);
    expect(r.exec(FXSAVE_RDI)).toBe(-1);
    expect(dv.getUint16(DATA + 12, true)).toBe(c.sel[1]); // FCS in the 32-bit layout
  });
  test('FXRSTOR restores what FXSAVE saved', () => {
    const r = machine();
    expect(r.exec([...FNINIT, ...FLD1, ...FLDZ, ...FXSAVE64_RDI, ...FNINIT, ...FXRSTOR64_RDI, ...FNSTSW_AX])).toBe(-1);
    expect(Number(r.m.regRead('rax') & 0x3800n) >> 11).toBe(6);
    expect(r.m.cpu.x87.abridgedTags()).toBe(0xc0);
  });
});

test('the FPU state is plain data: saveState survives JSON and loadState restores it', () => {
  const r = machine();
  expect(r.exec([...FNINIT, ...FLD1, ...FLDZ, ...MOVQ_MM0_MM1, ...FLD1])).toBe(-1);
  const saved = JSON.parse(JSON.stringify(r.m.cpu.x87.saveState()));
  const copy = new X87State();
  copy.loadState(saved);
  expect(copy.saveState()).toEqual(r.m.cpu.x87.saveState());
  expect(copy.statusWord()).toBe(r.m.cpu.x87.statusWord());
  expect(copy.tagWord()).toBe(r.m.cpu.x87.tagWord());
});

test('random x87/MMX encodings on random FPU states never throw a host exception', () => {
  // Seeded: D8-DF escapes and 0F-map MMX/FXSAVE opcodes with random ModRM and tails, on register
  // images with random bytes (unsupported formats, odd tags, any control word).
  const { makeCases } = jest.requireActual('./x87Cases') as typeof import('./x87Cases');
  const { seededRandom } = jest.requireActual('../../../emulator/seededRandom') as typeof import('../../../emulator/seededRandom');
  const r = seededRandom(7);
  const runner = new EmulatorRunner();
  const base = makeCases('arith', 3, 1);
  const MAP0F = [0x6f, 0x7f, 0x6e, 0x7e, 0x77, 0xd4, 0xf4, 0x70, 0x71, 0x72, 0x73, 0xc4, 0xc5, 0xd7, 0xf7, 0xe7, 0xae, 0xe0, 0xe3, 0xf6];
  let ran = 0;
  for (let i = 0; i < 3000; i++) {
    const k = { ...base[i % base.length], rcx: '0' };
    const first = r() < 0.7 ? 0xd8 + Math.floor(r() * 8) : 0x0f;
    const b = first === 0x0f ? [0x0f, MAP0F[Math.floor(r() * MAP0F.length)]] : [first];
    const modrm = b.length;
    while (b.length < modrm + 4) b.push(Math.floor(r() * 256));
    if (r() < 0.5) b[modrm] = (b[modrm] & 0x38) | 0x07; // [rdi]
    k.code = Buffer.from(b).toString('hex');
    const img = Buffer.from(k.image, 'hex');
    for (let j = 0; j < 88; j++) if (r() < 0.3) img[j] = Math.floor(r() * 256);
    k.image = img.toString('hex');
    // Guest faults and odd control flow are fine (reported as a string); a host exception is not.
    expect(() => runner.run(k)).not.toThrow();
    ran++;
  }
  expect(ran).toBe(3000);
});
