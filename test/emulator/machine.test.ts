// Unicorn-rhythm tests of the machine: map (direct 64-bit start), write code bytes, set registers,
// run, check. Code bytes are hand-assembled; each line carries the instruction it encodes.
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_EXIT, STOP_HALTED, STOP_TRIPLE, STOP_HOST, STOP_LIMIT, HOOK_CODE, HOOK_IO } from '../../emulator/machine';
import { startDirect64, PD_PADDR } from '../../emulator/loader/direct64';
import { loadPvh } from '../../emulator/loader/pvh';
import { FRAME_CALL } from '../../emulator/truth/callStacks';

const CODE = 0x100000;
const IDT = 0x8000;

function machine(code: number[], at = CODE): Machine {
  const m = new Machine({ memory: 16 * 1024 * 1024 });
  startDirect64(m, { code: Uint8Array.from(code), entry: at });
  m.cpu.idtBase = IDT; m.cpu.idtLimit = 256 * 16 - 1;
  return m;
}
function put(m: Machine, at: number, bytes: number[]): void { m.physWrite(at, Uint8Array.from(bytes)); }
/** 64-bit interrupt gate (type 0xE), kernel CS 0x10. */
function gate(m: Machine, vector: number, handler: number, dpl = 0, ist = 0): void {
  const dv = m.mem.dv, a = IDT + vector * 16;
  dv.setUint32(a, (handler & 0xffff) | (0x10 << 16), true);
  dv.setUint32(a + 4, ((handler & 0xffff0000) | 0x8e00 | (dpl << 13) | ist) >>> 0, true);
  dv.setUint32(a + 8, 0, true); dv.setUint32(a + 12, 0, true);
}
const q = (m: Machine, pa: number): bigint => m.mem.dv.getBigUint64(pa, true);

describe('registers', () => {
  test('32-bit writes zero the upper half, 8/16-bit writes do not', () => {
    const m = machine([
      0xb8, 0x78, 0x56, 0x34, 0x12,       // mov eax, 0x12345678
      0x48, 0x89, 0xc3,                   // mov rbx, rax
      0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, // mov rcx, -1
      0xb1, 0x11,                         // mov cl, 0x11
      0xb5, 0x22,                         // mov ch, 0x22
      0x66, 0xba, 0x33, 0x33,             // mov dx, 0x3333
      0xf4,                               // hlt
    ]);
    m.regWrite('rax', 0xffffffffffffffffn);
    m.regWrite('rdx', 0xaaaaaaaaaaaaaaaan);
    const r = m.run(100);
    expect(r.reason).toBe(STOP_HALTED);
    expect(m.regRead('rax')).toBe(0x12345678n);
    expect(m.regRead('rbx')).toBe(0x12345678n);
    expect(m.regRead('rcx')).toBe(0xffffffffffff2211n);
    expect(m.regRead('rdx')).toBe(0xaaaaaaaaaaaa3333n);
    expect(m.regRead('rip')).toBe(BigInt(CODE + 24));
  });
});

describe('paging and page faults', () => {
  /** Split the 2 MiB page at 0x400000 into 4 KiB pages: 0x401000 absent, 0x402000 read-only. */
  function splitPages(m: Machine): void {
    const PT = 0x4000, dv = m.mem.dv;
    for (let i = 0; i < 512; i++) { dv.setUint32(PT + 8 * i, (0x400000 + i * 4096) | 7, true); dv.setUint32(PT + 8 * i + 4, 0, true); }
    dv.setUint32(PT + 8, 0, true);
    dv.setUint32(PT + 16, 0x402000 | 5, true);
    dv.setUint32(PD_PADDR + 16, PT | 7, true);
    m.cpu.mmu.flush();
  }
  const handler = [
    0x0f, 0x20, 0xd0,                               // mov rax, cr2
    0x48, 0x89, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00, // mov [0x7000], rax
    0x5b,                                           // pop rbx (error code)
    0x48, 0x89, 0x1c, 0x25, 0x08, 0x70, 0x00, 0x00, // mov [0x7008], rbx
    0xf4,                                           // hlt
  ];
  test('#PF on a not-present page: CR2 and error code 0', () => {
    const m = machine([0x48, 0x8b, 0x04, 0x25, 0x00, 0x10, 0x40, 0x00]); // mov rax, [0x401000]
    splitPages(m); gate(m, 14, 0x100500); put(m, 0x100500, handler);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(q(m, 0x7000)).toBe(0x401000n);
    expect(q(m, 0x7008)).toBe(0n);
    expect(m.cpu.cr2).toBe(0x401000);
  });
  test('#PF on a write to a read-only page with CR0.WP: error code 3', () => {
    const m = machine([0xc6, 0x04, 0x25, 0x00, 0x20, 0x40, 0x00, 0x01]); // mov byte [0x402000], 1
    splitPages(m); gate(m, 14, 0x100500); put(m, 0x100500, handler);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(q(m, 0x7000)).toBe(0x402000n);
    expect(q(m, 0x7008)).toBe(3n);
    expect(m.mem.u8[0x402000]).toBe(0);
  });
  test('accessed and dirty bits are set by the walk', () => {
    const m = machine([
      0x48, 0x8b, 0x04, 0x25, 0x00, 0x30, 0x40, 0x00, // mov rax, [0x403000]
      0xc6, 0x04, 0x25, 0x00, 0x40, 0x40, 0x00, 0x01, // mov byte [0x404000], 1
      0xf4,
    ]);
    splitPages(m);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    const pte = (i: number): number => m.mem.dv.getUint32(0x4000 + 8 * i, true);
    expect(pte(3) & 0x60).toBe(0x20);
    expect(pte(4) & 0x60).toBe(0x60);
    expect(m.mem.u8[0x404000]).toBe(1);
  });
  test('non-canonical address raises #GP(0)', () => {
    const m = machine([
      0x48, 0xb8, 0, 0, 0, 0, 0, 0x80, 0, 0, // movabs rax, 0x0000800000000000
      0x48, 0x8b, 0x00,                      // mov rax, [rax]
      0xf4,
    ]);
    gate(m, 13, 0x100500);
    put(m, 0x100500, [0x5b, 0x48, 0x89, 0x1c, 0x25, 0x08, 0x70, 0x00, 0x00, 0xf4]); // pop rbx; mov [0x7008], rbx; hlt
    m.mem.dv.setUint32(0x7008, 0xdead, true);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(q(m, 0x7008)).toBe(0n);
    expect(m.intr.recent.map((e) => e.vector)).toEqual([13]);
  });
});

describe('exceptions', () => {
  test('#DE is delivered and the handler resumes after the div', () => {
    const m = machine([0x31, 0xc9, 0xf7, 0xf1, 0xf4]); // xor ecx,ecx; div ecx; hlt
    gate(m, 0, 0x100400);
    put(m, 0x100400, [0x48, 0x83, 0x04, 0x24, 0x02, 0x48, 0xcf]); // add qword [rsp], 2; iretq
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(m.regRead('rip')).toBe(BigInt(CODE + 5));
    expect(m.intr.recent[0].vector).toBe(0);
    expect(m.regRead('rsp')).toBe(0x80000n);
  });
  test('no IDT: #UD escalates to a triple fault that stops the machine', () => {
    const m = machine([0x0f, 0x0b]); // ud2
    m.cpu.idtLimit = 0;
    const r = m.run(100);
    expect(r.reason).toBe(STOP_TRIPLE);
    expect(r.message).toMatch(/triple fault/);
  });
  test('an unimplemented instruction raises #UD and is counted', () => {
    const m = machine([0xc5, 0xf8, 0x77]); // vzeroupper (no AVX here)
    gate(m, 6, 0x100400); put(m, 0x100400, [0xf4]);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(m.intr.recent[0].vector).toBe(6);
    expect([...m.cpu.unimplemented]).toEqual([['vzeroupper', 1]]);
  });
});

describe('double fault, IST and privilege changes', () => {
  test('#PF whose gate is not present becomes #NP → #DF, delivered on the IST1 stack', () => {
    const m = machine([0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x00, 0x40]); // mov rax, [0x40000000] (beyond RAM map)
    gate(m, 8, 0x100400, 0, 1);
    put(m, 0x100400, [0xf4]);
    m.mem.dv.setUint32(0x600 + 0x24, 0xa0000, true); // TSS.IST1
    const r = m.run(100);
    expect(r.reason).toBe(STOP_HALTED);
    expect(m.intr.recent.map((e) => e.vector)).toEqual([14, 8]);
    expect(m.cpu.cr2).toBe(0x40000000);
    // Frame on the IST stack: error code 0, RIP of the faulting mov, CS, RFLAGS, RSP, SS.
    const sp = 0xa0000 - 48;
    expect(m.regRead('rsp')).toBe(BigInt(sp));
    expect(q(m, sp)).toBe(0n);
    expect(q(m, sp + 8)).toBe(BigInt(CODE));
    expect(q(m, sp + 16)).toBe(0x10n);
    expect(q(m, sp + 32)).toBe(0x80000n);
  });
  test('INT3 from ring 3 switches to TSS.RSP0 and IRETQ returns to ring 3', () => {
    const m = machine([0x48, 0x0f, 0x07]);                       // sysretq → 0x100100 at CPL 3
    put(m, 0x100100, [0xcc, 0x0f, 0x05]);                      // user: int3; syscall
    put(m, 0x100200, [0xf4]);                                  // LSTAR: hlt
    gate(m, 3, 0x100300, 3);
    put(m, 0x100300, [
      0x48, 0x89, 0x24, 0x25, 0x00, 0x70, 0x00, 0x00,          // mov [0x7000], rsp
      0x48, 0xcf,                                              // iretq
    ]);
    m.regWrite('rcx', 0x100100n); m.regWrite('r11', 0x2n); m.regWrite('rsp', 0x50000n);
    m.regWrite('star', (0x0020_0010n << 32n)); m.regWrite('lstar', 0x100200n);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    const frame = 0x90000 - 40;
    expect(q(m, 0x7000)).toBe(BigInt(frame));
    expect(q(m, frame)).toBe(0x100101n);   // RIP after int3
    expect(q(m, frame + 8)).toBe(0x33n);   // user CS
    expect(q(m, frame + 24)).toBe(0x50000n); // user RSP
    expect(q(m, frame + 32)).toBe(0x2bn);  // user SS
    expect(m.regRead('rcx')).toBe(0x100103n); // the syscall after iretq ran at CPL 3
  });
});

describe('single-step', () => {
  test('RFLAGS.TF traps with #DB after each instruction, starting after the POPF that set it', () => {
    const m = machine([
      0x9c,                                           // pushfq
      0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00, // or qword [rsp], 0x100
      0x9d,                                           // popfq (TF on)
      0x90, 0x90,                                     // nop; nop
      0x9c,                                           // pushfq
      0x48, 0x81, 0x24, 0x24, 0xff, 0xfe, 0xff, 0xff, // and qword [rsp], ~0x100
      0x9d,                                           // popfq (TF off; still traps after it)
      0xf4,
    ]);
    gate(m, 1, 0x100400);
    put(m, 0x100400, [0x48, 0xff, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00, 0x48, 0xcf]); // inc qword [0x7000]; iretq
    expect(m.run(200).reason).toBe(STOP_HALTED);
    expect(q(m, 0x7000)).toBe(5n);
    expect(m.intr.recent.map((e) => e.rip - CODE)).toEqual([11, 12, 13, 21, 22]);
  });
});

describe('compiled blocks', () => {
  test('dead flags are skipped only when the next instruction overwrites them; live carries survive', () => {
    const m = new Machine({ memory: 16 * 1024 * 1024, compileThreshold: 1 });
    startDirect64(m, { code: Uint8Array.from([
      0x48, 0x01, 0xd8,       // 1: add rax, rbx      (flags dead: the sub below overwrites all)
      0x48, 0x01, 0xde,       //    add rsi, rbx      (flags live: adc reads CF)
      0x48, 0x83, 0xd7, 0x00, //    adc rdi, 0
      0x48, 0x83, 0xe9, 0x01, //    sub rcx, 1
      0x75, 0xf0,             //    jnz 1b
      0xf4,
    ]) });
    m.regWrite('rbx', 0xc000000000000000n); m.regWrite('rcx', 5n);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(m.regRead('rax')).toBe((5n * 0xc000000000000000n) & ((1n << 64n) - 1n));
    expect(m.regRead('rsi')).toBe((5n * 0xc000000000000000n) & ((1n << 64n) - 1n));
    // Carries out of rsi: 0+c=c (no), c+c (yes), 8+c (yes), 4+c (yes), 0+c (no)... counted by adc.
    let v = 0n, carries = 0n;
    for (let i = 0; i < 5; i++) { const t = v + 0xc000000000000000n; if (t >> 64n) carries++; v = t & ((1n << 64n) - 1n); }
    expect(m.regRead('rdi')).toBe(carries);
    expect(m.regRead('rflags') & 0x40n).toBe(0x40n); // ZF from the last sub
  });
});

describe('instruction fetch', () => {
  test('an instruction crossing into a not-present page raises #PF for that page, and runs once it is mapped', () => {
    // Split 0x400000-0x5fffff into 4 KiB pages with 0x401000 absent; `mov rax, imm64` starts 2 bytes
    // before the page end.
    const m = machine([0x48, 0xb8], 0x400ffe);
    const PT = 0x4000, dv = m.mem.dv;
    for (let i = 0; i < 512; i++) { dv.setUint32(PT + 8 * i, (0x400000 + i * 4096) | 7, true); dv.setUint32(PT + 8 * i + 4, 0, true); }
    dv.setUint32(PT + 8, 0, true);
    dv.setUint32(PD_PADDR + 16, PT | 7, true);
    m.cpu.mmu.flush();
    put(m, 0x401000, [1, 2, 3, 4, 5, 6, 7, 8, 0xf4]);
    gate(m, 14, 0x100500);
    put(m, 0x100500, [0xf4]);
    expect(m.run(10).reason).toBe(STOP_HALTED);
    expect(m.intr.recent.map((e) => e.vector)).toEqual([14]);
    expect(m.cpu.cr2).toBe(0x401000);
    // Map the page and retry the instruction.
    dv.setUint32(PT + 8, 0x401000 | 7, true);
    m.cpu.mmu.flush();
    m.regWrite('rip', 0x400ffen); m.regWrite('rsp', 0x80000n); m.cpu.halted = false;
    expect(m.run(10).reason).toBe(STOP_HALTED);
    expect(m.regRead('rax')).toBe(0x0807060504030201n);
  });
});

describe('self-modifying code', () => {
  test('a store into the current block changes the next instruction', () => {
    const m = machine([
      0xc6, 0x05, 0x01, 0x00, 0x00, 0x00, 0x2a, // mov byte [rip+1], 0x2a (the imm8 below)
      0xb0, 0x00,                               // mov al, 0
      0xf4,
    ]);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(m.regRead('rax') & 0xffn).toBe(0x2an);
  });
  test('host text patching invalidates decoded blocks', () => {
    const m = machine([0xb8, 0x01, 0, 0, 0, 0xf4]); // mov eax, 1; hlt
    m.run(100);
    expect(m.regRead('rax')).toBe(1n);
    m.physWrite(CODE + 1, Uint8Array.from([2]));
    m.regWrite('rip', BigInt(CODE)); m.cpu.halted = false;
    m.run(100);
    expect(m.regRead('rax')).toBe(2n);
    expect(m.cache.stats.invalidatedBlocks).toBeGreaterThan(0);
  });
});

describe('syscall / sysret', () => {
  test('sysretq to ring 3, syscall back to LSTAR with RCX/R11 and IF masked', () => {
    const m = machine([0x48, 0x0f, 0x07]);       // sysretq
    put(m, 0x100100, [0x0f, 0x05]);            // user: syscall
    put(m, 0x100200, [0xf4]);                  // LSTAR: hlt
    m.regWrite('rcx', 0x100100n); m.regWrite('r11', 0x202n);
    m.regWrite('star', (0x0020_0010n << 32n)); m.regWrite('lstar', 0x100200n); m.regWrite('sfmask', 0x200n);
    let sawUser = false;
    m.hookAdd(HOOK_CODE, () => { sawUser = m.cpu.cpl === 3 && m.cpu.sel[1] === 0x33 && m.cpu.sel[2] === 0x2b; }, 0x100100, 0x100100);
    const r = m.run(100);
    expect(r.reason).toBe(STOP_HALTED);
    expect(sawUser).toBe(true);
    expect(m.cpu.cpl).toBe(0);
    expect(m.regRead('cs')).toBe(0x10n);
    expect(m.regRead('rcx')).toBe(0x100102n);
    expect(m.regRead('r11')).toBe(0x202n);
    expect(m.regRead('rip')).toBe(0x100201n);
  });
});

describe('timer interrupts through the PIC', () => {
  test('PIT at 100 Hz delivers IRQ0 to vector 0x20; HLT advances virtual time', () => {
    const m = machine([0xfb, 0xf4, 0xeb, 0xfd]); // sti; 1: hlt; jmp 1b
    gate(m, 0x20, 0x100300);
    put(m, 0x100300, [
      0x48, 0xff, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00, // inc qword [0x7000]
      0xb0, 0x20, 0xe6, 0x20,                         // mov al, 0x20; out 0x20, al (EOI)
      0x48, 0xcf,                                     // iretq
    ]);
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfe], [0x43, 0x34], [0x40, 0x9c], [0x40, 0x2e]]) m.io.write(p, 1, v);
    const r = m.run(600);
    expect(r.reason).toBe(STOP_LIMIT);
    const ticks = Number(q(m, 0x7000));
    expect(ticks).toBeGreaterThan(50);
    // Virtual time: one tick every 11932 PIT clocks at 1.193182 MHz (~10,000,151 ns at 1 insn = 1 ns).
    const period = (11932 * 1e9) / 1193182;
    expect(Math.floor(m.cpu.icount / period)).toBeGreaterThanOrEqual(ticks);
    expect(Math.floor(m.cpu.icount / period)).toBeLessThanOrEqual(ticks + 1);
    expect(m.intr.recent.every((e) => e.vector === 0x20)).toBe(true);
  });
});

describe('halt', () => {
  test('HLT with the timer IRQ masked stops the machine instead of spinning', () => {
    const m = machine([0xfb, 0xf4, 0xeb, 0xfd]); // sti; 1: hlt; jmp 1b
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xff], [0x43, 0x34], [0x40, 0x9c], [0x40, 0x2e]]) m.io.write(p, 1, v);
    const r = m.run(1000);
    expect(r.reason).toBe(STOP_HALTED);
    expect(r.message).toMatch(/IRQ masked/);
  });
  test('HLT with interrupts disabled stops the machine', () => {
    const m = machine([0xfa, 0xf4]); // cli; hlt
    const r = m.run(1000);
    expect(r.reason).toBe(STOP_HALTED);
    expect(r.message).toBe('HLT with interrupts disabled');
    expect(r.instructions).toBe(2);
  });
});

describe('host API', () => {
  test('a code hook can pause before an instruction; run resumes there', () => {
    const m = machine([0x90, 0x90, 0xb8, 0x05, 0, 0, 0, 0xf4]); // nop; nop; mov eax, 5; hlt
    const seen: number[] = [];
    m.hookAdd(HOOK_CODE, (a: number) => { seen.push(a); m.stop('breakpoint'); }, CODE + 2, CODE + 2);
    const r1 = m.run(100);
    expect(r1.reason).toBe(STOP_HOST);
    expect(m.regRead('rip')).toBe(BigInt(CODE + 2));
    expect(m.regRead('rax')).toBe(0n);
    const r2 = m.run(100);
    expect(r2.reason).toBe(STOP_HALTED);
    expect(m.regRead('rax')).toBe(5n);
    expect(seen).toEqual([CODE + 2]);
  });
  test('an interrupt taken before the paused instruction runs: its hooks run again when the handler returns there', () => {
    // As gdb does: stepping over a breakpoint that an interrupt preempts, the breakpoint hits again
    // when the handler returns to it.
    const m = machine([0xfb, 0x90, 0x90, 0xb8, 0x05, 0, 0, 0, 0xf4]); // sti; nop; nop; mov eax, 5; hlt
    gate(m, 0x21, 0x100300);
    put(m, 0x100300, [
      0x48, 0xff, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00, // inc qword [0x7000]
      0xb0, 0x20, 0xe6, 0x20,                         // mov al, 0x20; out 0x20, al (EOI)
      0x48, 0xcf,                                     // iretq
    ]);
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0x21, 0xfd]]) m.io.write(p, 1, v); // IRQ1 only
    const seen: number[] = [];
    m.hookAdd(HOOK_CODE, (a: number) => { seen.push(a); m.stop('breakpoint'); }, CODE + 3, CODE + 3);
    expect(m.run(100).reason).toBe(STOP_HOST);
    expect(m.regRead('rip')).toBe(BigInt(CODE + 3));
    m.pic.setIrq(1, true); m.pic.setIrq(1, false);
    expect(m.run(100).reason).toBe(STOP_HOST);
    expect(q(m, 0x7000)).toBe(1n);
    expect(m.regRead('rip')).toBe(BigInt(CODE + 3));
    expect(m.regRead('rax')).toBe(0x20n); // the handler's AL: mov eax, 5 has not run
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(m.regRead('rax')).toBe(5n);
    expect(seen).toEqual([CODE + 3, CODE + 3]);
  });
  test('hooks that add and delete hooks while they run: a deleted one is skipped at once, an added one runs from the next instruction', () => {
    const m = machine([0x90, 0x90, 0x90, 0xf4]); // nop; nop; nop; hlt
    const seen: string[] = [];
    let later = 0;
    const a = m.hookAdd(HOOK_CODE, (at: number) => {
      seen.push(`a ${at - CODE}`);
      if (at === CODE) {
        m.hookDel(b); // b is after a in the list: it must not run at this instruction
        later = m.hookAdd(HOOK_CODE, (x: number) => { seen.push(`c ${x - CODE}`); }, CODE, CODE + 2);
      }
      if (at === CODE + 1) m.hookDel(a);
    }, CODE, CODE + 2);
    const b = m.hookAdd(HOOK_CODE, (at: number) => { seen.push(`b ${at - CODE}`); }, CODE, CODE + 2);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(seen).toEqual(['a 0', 'a 1', 'c 1', 'c 2']);
    expect(m.hookDel(later)).toBe(true);
    expect(m.hookDel(b)).toBe(false);
  });
  test('port I/O hook and isa-debug-exit status', () => {
    const m = machine([0xb0, 0x03, 0xe6, 0xf4]); // mov al, 3; out 0xf4, al
    const io: string[] = [];
    m.hookAdd(HOOK_IO, ((p: number, s: number, w: boolean, v: number) => io.push(`${w ? 'out' : 'in'} ${p.toString(16)} ${v}`)) as never);
    const r = m.run(100);
    expect(r.reason).toBe(STOP_EXIT);
    expect(r.exitStatus).toBe(7);
    expect(io).toEqual(['out f4 3']);
  });
  test('context save and restore bring every register back', () => {
    const m = machine([0x48, 0xff, 0xc0, 0x0f, 0x01, 0xf8, 0xeb, 0xf8]); // 1: inc rax; swapgs; jmp 1b
    m.regWrite('gs_base', 0x1000n); m.regWrite('kernel_gs_base', 0x2000n);
    m.run(3);
    const ctx = m.contextSave();
    const before = m.regRead('rax'), gs = m.regRead('gs_base'), fl = m.regRead('rflags');
    m.run(31);
    expect(m.regRead('rax')).not.toBe(before);
    m.contextRestore(ctx);
    expect(m.regRead('rax')).toBe(before);
    expect(m.regRead('gs_base')).toBe(gs);
    expect(m.regRead('rflags')).toBe(fl);
    expect(m.regRead('rip')).toBe(BigInt(CODE));
    m.run(3);
    expect(m.regRead('rax')).toBe(before + 1n);
  });
  test('virtual and physical memory access', () => {
    const m = machine([0xf4]);
    expect(m.virtWrite(0x200010, Uint8Array.from([1, 2, 3]))).toBe(true);
    expect(Array.from(m.physRead(0x200010, 3))).toEqual([1, 2, 3]);
    expect(m.virtRead(0x7fff_0000_0000, 1)).toBeNull();
  });
});

describe('ground truth', () => {
  test('call chain is tracked per stack', () => {
    const m = machine([
      0xe8, 0x05, 0, 0, 0, // 100000: call 10000a
      0xf4,                // 100005: hlt
      0, 0, 0, 0,
      0xe8, 0x01, 0, 0, 0, // 10000a: call 100010
      0xc3,                // 10000f: ret
      0xf4,                // 100010: hlt
    ]);
    const truth = m.enableTruth();
    expect(m.run(100).reason).toBe(STOP_HALTED);
    const frames = truth.framesAt(m.cpu.regs.addr(4));
    expect(frames.map((f) => [f.kind, f.from, f.to])).toEqual([[FRAME_CALL, 0x10000a, 0x100010], [FRAME_CALL, 0x100000, 0x10000a]]);
  });
});

test('every page that holds anything but zeros is marked written, so reused RAM comes back all zero', () => {
  // The fixture kernel's whole run, with the translators on: page walks setting A/D bits, REP MOVS
  // copied in bulk, translated JS and WebAssembly code writing through the TLB, the loader's writes.
  const elf = path.join(__dirname, '..', '..', 'fixtures', 'kernel', 'kernel.elf');
  const a = new Machine({ wasmThreshold: 50, compileThreshold: 200 });
  loadPvh(a, fs.readFileSync(elf), elf);
  expect(a.run(2_000_000_000).reason).toBe(STOP_EXIT);
  const pages = a.mem.size / 4096;
  let nonZero = 0, unmarked = 0;
  for (let p = 0; p < pages; p++) {
    if (a.mem.u8.subarray(p * 4096, (p + 1) * 4096).some((x) => x !== 0)) {
      nonZero++;
      if (a.mem.written[p] === 0) unmarked++;
    }
  }
  expect(nonZero).toBeGreaterThan(50);
  expect(unmarked).toBe(0);
  a.release();
  const b = new Machine();
  expect(b.mem.buffer).toBe(a.mem.buffer);
  expect(b.mem.u8.every((x) => x === 0)).toBe(true);
  expect(b.mem.written.every((x) => x === 0)).toBe(true);
}, 60000);

test('a released machine gives its RAM, zeroed, to the next machine of that size', () => {
  const size = 4 << 20;
  const a = new Machine({ memory: size });
  a.physWrite(0x1000, Uint8Array.of(1, 2, 3));
  a.physWrite(size - 1, Uint8Array.of(0xee));
  a.release();
  const b = new Machine({ memory: size });
  expect(b.mem.buffer).toBe(a.mem.buffer);
  expect(b.mem.u8.every((x) => x === 0)).toBe(true);
  // Only one machine takes it: the next gets fresh memory.
  const c = new Machine({ memory: size });
  expect(c.mem.buffer).not.toBe(b.mem.buffer);
});
