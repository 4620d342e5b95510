// Precise state in translated code: a fault in the middle of a hot (translated) block is delivered
// with the interpreter's RIP, icount, registers and RFLAGS (the pending flag record included), and a
// store into the block's own code ends it where the interpreter ends it. Each program loops until
// its block is translated, then faults or patches itself; both modes must agree on everything, and
// the known answer is checked too.
import { Machine, HOOK_CODE, HOOK_INTR, STOP_HALTED, type MachineOptions } from '../../../emulator/machine';
import { startDirect64, PD_PADDR } from '../../../emulator/loader/direct64';
import { JIT_MODES, machineState, FALL_THROUGH_LOOP } from './jitModes';
import { jitStats } from '../../../emulator/jit/translateBlock';

const CODE = 0x100000, IDT = 0x8000, HANDLER = 0x100f00, PT = 0x4000;
const ABSENT_PAGE = 0x440000, READ_ONLY_PAGE = 0x420000;

interface Delivery { vector: number; errorCode: number; rip: number; insnStart: number; icount: number; regs: string; rflags: number; cr2: number }

function machine(opts: MachineOptions, code: number[], regs: Record<string, bigint>): { m: Machine; deliveries: Delivery[] } {
  const m = new Machine({ memory: 16 << 20, ...opts });
  startDirect64(m, { code: Uint8Array.from(code), entry: CODE });
  const c = m.cpu, dv = m.mem.dv;
  c.idtBase = IDT; c.idtLimit = 256 * 16 - 1;
  for (let v = 0; v < 32; v++) {
    dv.setUint32(IDT + v * 16, (HANDLER & 0xffff) | (0x10 << 16), true);
    dv.setUint32(IDT + v * 16 + 4, ((HANDLER & 0xffff0000) | 0x8e00) >>> 0, true);
  }
  m.physWrite(HANDLER, Uint8Array.of(0xf4));
  // 0x400000-0x5fffff as 4 KiB pages: one absent, one read-only.
  for (let i = 0; i < 512; i++) {
    const pa = 0x400000 + i * 4096;
    dv.setUint32(PT + 8 * i, pa === ABSENT_PAGE ? 0 : pa | (pa === READ_ONLY_PAGE ? 5 : 7), true);
    dv.setUint32(PT + 8 * i + 4, 0, true);
  }
  dv.setUint32(PD_PADDR + 16, PT | 7, true);
  c.mmu.flush();
  for (const [r, v] of Object.entries(regs)) m.regWrite(r as never, v);
  const deliveries: Delivery[] = [];
  m.hookAdd(HOOK_INTR, (vector: number, errorCode: number) => {
    deliveries.push({ vector, errorCode, rip: c.rip, insnStart: c.insnStart, icount: c.icount, regs: c.regs.u32.join(), rflags: c.flags.get(), cr2: c.cr2 });
  });
  return { m, deliveries };
}

/** The program in the interpreter and in the JIT, which must deliver the same faults and leave the same machine. */
function runBoth(code: number[], regs: Record<string, bigint>) {
  const [a, b] = JIT_MODES.map(([, opts]) => {
    const { m, deliveries } = machine(opts, code, regs);
    const r = m.run(1_000_000);
    expect(r.reason).toBe(STOP_HALTED);
    // In JIT mode the loop's block ran translated (it is still cached unless it patched itself).
    if (m.jit && deliveries.length > 0) expect(m.cache.lookup(CODE, 64)?.compiled).toBeTruthy();
    return { m, deliveries, state: machineState(m, r) };
  });
  expect(b.deliveries).toEqual(a.deliveries);
  expect(b.state).toEqual(a.state);
  return [a, b];
}

test('#PF on a load in the middle of a translated block', () => {
  const code = [
    0x48, 0x01, 0xd8,                         // loop: add rax, rbx
    0x48, 0x8d, 0xbf, 0x00, 0x10, 0x00, 0x00, // lea rdi, [rdi+0x1000]
    0x48, 0x8b, 0x17,                         // mov rdx, [rdi]
    0x48, 0xd1, 0xe2,                         // shl rdx, 1
    0x83, 0xe9, 0x01,                         // sub ecx, 1
    0x75, 0xeb,                               // jnz loop
    0xf4,                                     // hlt
  ];
  const [a] = runBoth(code, { rax: 1n, rbx: 0x7fffffffffffffffn, rcx: 1000n, rdi: 0x3ff000n });
  expect(a.deliveries.map((d) => [d.vector, d.errorCode, d.rip, d.cr2])).toEqual([[14, 0, CODE + 10, ABSENT_PAGE]]);
});

test('#PF on a store to a read-only page, after a pending XOR record', () => {
  const code = [
    0x48, 0x01, 0xd8,                         // loop: add rax, rbx
    0x48, 0x8d, 0xbf, 0x00, 0x10, 0x00, 0x00, // lea rdi, [rdi+0x1000]
    0x48, 0x89, 0x07,                         // mov [rdi], rax
    0x31, 0xc2,                               // xor edx, eax
    0x83, 0xe9, 0x01,                         // sub ecx, 1
    0x75, 0xec,                               // jnz loop
    0xf4,                                     // hlt
  ];
  const [a, b] = runBoth(code, { rax: 5n, rbx: 0xfffffffffffffff0n, rcx: 1000n, rdi: 0x3ff000n, rdx: 0x1234n });
  expect(a.deliveries.map((d) => [d.vector, d.errorCode, d.rip, d.cr2])).toEqual([[14, 3, CODE + 10, READ_ONLY_PAGE]]);
  expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
});

test('#GP on a non-canonical address after a pending CMP record', () => {
  const code = [
    0x81, 0xf9, 0xde, 0x03, 0x00, 0x00, // loop: cmp ecx, 990
    0x48, 0x0f, 0x44, 0xf5,             // cmove rsi, rbp
    0x48, 0x39, 0xd8,                   // cmp rax, rbx
    0x48, 0x8b, 0x14, 0xf7,             // mov rdx, [rdi+rsi*8]
    0x83, 0xe9, 0x01,                   // sub ecx, 1
    0x75, 0xea,                         // jnz loop
    0xf4,                               // hlt
  ];
  // From the 11th iteration on, rsi*8 = 2^47 puts the address out of the canonical range.
  const [a] = runBoth(code, { rax: 3n, rbx: 9n, rcx: 1000n, rdi: 0x400000n, rsi: 0n, rbp: 1n << 44n });
  expect(a.deliveries.map((d) => [d.vector, d.errorCode, d.rip])).toEqual([[13, 0, CODE + 13]]);
});

test('a translated block that patches its own next instruction ends there, as the interpreter does', () => {
  const code = [
    0x83, 0xf9, 0x07,       // loop: cmp ecx, 7
    0x48, 0x0f, 0x44, 0xfd, // cmove rdi, rbp
    0x88, 0x07,             // mov [rdi], al
    0x83, 0xc3, 0x11,       // add ebx, 0x11   (its immediate at CODE + 11)
    0x04, 0x01,             // add al, 1
    0x83, 0xe9, 0x01,       // sub ecx, 1
    0x75, 0xed,             // jnz loop
    0xf4,                   // hlt
  ];
  const n = 100;
  const [a, b] = runBoth(code, { rcx: BigInt(n), rdi: 0x300000n, rbp: BigInt(CODE + 11), rax: 0n, rbx: 0n });
  // Iterations i = 0..n-1 (al = i): until ecx reaches 7 the immediate is 0x11, then al patches it.
  let want = 0;
  for (let i = 0; i < n; i++) want += n - i > 7 ? 0x11 : i;
  expect(Number(a.m.regRead('rbx'))).toBe(want);
  expect(a.deliveries).toEqual([]);
  expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
});

test('a self-looping translated block stops exactly at the instruction budget', () => {
  const code = [
    0x48, 0x83, 0xc0, 0x01, // loop: add rax, 1
    0x48, 0x39, 0xd8,       // cmp rax, rbx
    0x75, 0xf7,             // jne loop
    0xf4,                   // hlt
  ];
  const states = JIT_MODES.map(([, opts]) => {
    const { m } = machine(opts, code, { rax: 0n, rbx: 5000n });
    const seen: unknown[] = [];
    // Budgets that end mid-iteration and mid-block, again and again, then the end.
    for (let i = 0; i < 40; i++) {
      const r = m.run(97 + (i % 5));
      seen.push([r.instructions, m.cpu.icount, m.cpu.rip, m.regRead('rax'), m.cpu.flags.get()]);
    }
    const r = m.run(1_000_000);
    expect(r.reason).toBe(STOP_HALTED);
    seen.push(machineState(m, r));
    return seen;
  });
  expect(states[1]).toEqual(states[0]);
});

// Traces (several chained blocks translated into one function, jit/traceSelect.ts): a fault in a
// later block of the trace, a store that patches a later block, and budgets that end between blocks.
const TRACE_LOOP = [
  0x48, 0x01, 0xd8,                         // loop: add rax, rbx
  0xa8, 0x01,                               // test al, 1
  0x74, 0x06,                               // jz skip
  0x48, 0x8b, 0x17,                         // mov rdx, [rdi]
  0x48, 0x01, 0xd6,                         // add rsi, rdx
  0x48, 0x8d, 0xbf, 0x00, 0x10, 0x00, 0x00, // skip: lea rdi, [rdi+0x1000]
  0x83, 0xe9, 0x01,                         // sub ecx, 1
  0x75, 0xe7,                               // jnz loop
  0xf4,                                     // hlt
];

test('#PF in a later block of a translated trace', () => {
  const traces = jitStats.traces;
  // rdi reaches the absent page in the 130th iteration, where rax = 131 is odd: the load runs.
  const [a] = runBoth(TRACE_LOOP, { rax: 1n, rbx: 1n, rcx: 1000n, rdi: 0x3bf000n });
  expect(a.deliveries.map((d) => [d.vector, d.rip, d.cr2])).toEqual([[14, CODE + 7, ABSENT_PAGE]]);
  expect(jitStats.traces).toBeGreaterThan(traces);
});

test('a translated trace stops between and inside its blocks exactly at the instruction budget', () => {
  const states = JIT_MODES.map(([, opts]) => {
    const { m } = machine(opts, TRACE_LOOP, { rax: 0n, rbx: 1n, rcx: 3000n, rdi: 0x100000n });
    const seen: unknown[] = [];
    for (let i = 0; i < 60; i++) {
      const r = m.run(89 + (i % 7));
      seen.push([r.instructions, m.cpu.icount, m.cpu.rip, m.cpu.regs.u32.join(), m.cpu.flags.get()]);
    }
    const r = m.run(1_000_000);
    expect(r.reason).toBe(STOP_HALTED);
    seen.push(machineState(m, r));
    return seen;
  });
  expect(states[1]).toEqual(states[0]);
});

test('a store in a translated trace that patches a later block of it ends the trace there', () => {
  const code = [
    0x48, 0x01, 0xd8,                         // loop: add rax, rbx
    0x48, 0x39, 0xd0,                         // cmp rax, rdx
    0x72, 0x07,                               // jb skip
    0xc6, 0x05, 0x0c, 0x00, 0x00, 0x00, 0x11, // mov byte [rip+patch+3], 0x11
    0x83, 0xe9, 0x01,                         // skip: sub ecx, 1
    0x75, 0x01,                               // jnz next
    0xf4,                                     // hlt
    0x49, 0x89, 0xc0,                         // next: mov r8, rax
    0x49, 0x83, 0xc1, 0x05,                   // patch: add r9, 5 (the immediate becomes 0x11)
    0x4d, 0x01, 0xca,                         // add r10, r9
    0xeb, 0xdf,                               // jmp loop
  ];
  const n = 300;
  const [a, b] = runBoth(code, { rax: 0n, rbx: 1n, rdx: 200n, rcx: BigInt(n) });
  // Iterations with rax = 1..n-1 reach `next` (the last one halts first); from rax = 200 on the
  // immediate is 0x11.
  let r9 = 0;
  for (let rax = 1; rax < n; rax++) r9 += rax >= 200 ? 0x11 : 5;
  expect(Number(a.m.regRead('r9'))).toBe(r9);
  expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
});

test('a host stop from an interrupt hook inside a translated trace ends it there', () => {
  const code = [
    0x48, 0x83, 0xc0, 0x01, // loop: add rax, 1
    0xcd, 0x40,             // int 0x40 (its handler, isr, is in this page: the trace goes on there)
    0x83, 0xe9, 0x01,       // sub ecx, 1
    0x75, 0xf5,             // jnz loop
    0xf4,                   // hlt
    0x48, 0x01, 0xc3,       // isr: add rbx, rax
    0x48, 0xcf,             // iretq
  ];
  const ISR = CODE + 12;
  const states = JIT_MODES.map(([, opts]) => {
    const { m } = machine(opts, code, { rax: 0n, rbx: 0n, rcx: 500n, rsp: 0x80000n });
    const dv = m.mem.dv;
    dv.setUint32(IDT + 0x40 * 16, (ISR & 0xffff) | (0x10 << 16), true);
    dv.setUint32(IDT + 0x40 * 16 + 4, ((ISR & 0xffff0000) | 0x8e00) >>> 0, true);
    let n = 0;
    m.hookAdd(HOOK_INTR, () => { if (++n % 37 === 0) m.stop('every 37th interrupt'); });
    const seen: unknown[] = [];
    for (;;) {
      const r = m.run(1_000_000);
      seen.push([r.reason, m.cpu.icount, m.cpu.rip, m.cpu.regs.u32.join(), m.cpu.flags.get()]);
      if (r.reason === STOP_HALTED) { seen.push(machineState(m, r)); break; }
    }
    expect(n).toBe(500);
    return seen;
  });
  expect(states[0].length).toBe(500 / 37 + 2 | 0);
  expect(states[1]).toEqual(states[0]);
});

// Loops inside a translated trace keep registers in locals across iterations and write them back
// only at a sync: a fault after many iterations, and budgets that end anywhere in the loop, must
// still see the interpreter's registers.

// A loop with an instruction that has no inline form (BSWAP: a handler call in the loop body); the
// register it changes is read again only at the next iteration's start.
const HANDLER_LOOP = [
  0x4c, 0x01, 0xc0,                         // loop: add rax, r8
  0x48, 0x8b, 0x17,                         // mov rdx, [rdi]
  0x48, 0x8d, 0xbf, 0x00, 0x10, 0x00, 0x00, // lea rdi, [rdi+0x1000]
  0x49, 0x0f, 0xc8,                         // bswap r8
  0x48, 0x01, 0xd0,                         // add rax, rdx
  0x48, 0x39, 0xd8,                         // cmp rax, rbx
  0x75, 0x01,                               // jne next
  0xf4,                                     // hlt
  0x83, 0xe9, 0x01,                         // next: sub ecx, 1
  0x75, 0xe2,                               // jnz loop
  0xf4,                                     // hlt
];

/** Both modes in run() slices; `firstUse`: translations are shared per process, so only a program's first run translates it. */
function runLoopBoth(code: number[], regs: Record<string, bigint>, slice: number, firstUse = false) {
  const loops = jitStats.loops;
  const runs = JIT_MODES.map(([, opts]) => {
    const { m, deliveries } = machine(opts, code, regs);
    const seen: unknown[] = [];
    for (;;) {
      const r = m.run(slice);
      seen.push([r.instructions, m.cpu.icount, m.cpu.rip, m.cpu.regs.u32.join(), m.cpu.flags.get()]);
      if (r.reason === STOP_HALTED) { seen.push(machineState(m, r)); break; }
    }
    return { m, deliveries, seen };
  });
  expect(runs[1].deliveries).toEqual(runs[0].deliveries);
  expect(runs[1].seen).toEqual(runs[0].seen);
  expect(Buffer.compare(runs[0].m.mem.u8, runs[1].m.mem.u8)).toBe(0);
  // The JIT translated a trace that loops inside its function.
  if (firstUse) expect(jitStats.loops).toBeGreaterThan(loops);
  return runs;
}

test('#PF in a trace that loops by falling through to its start', () => {
  // rax counts down from 1000; the load at rdi + 8 * rax walks down into the absent page at rax = 499.
  const [a] = runLoopBoth(FALL_THROUGH_LOOP, { rax: 1000n, rsi: 1n, rdi: BigInt(ABSENT_PAGE + 96) }, 1_000_000, true);
  expect(a.deliveries.map((d) => [d.vector, d.rip, d.cr2])).toEqual([[14, CODE + 19, ABSENT_PAGE + 4088]]);
  expect(Number(a.m.regRead('rax'))).toBe(499);
});

test('a looping trace stops exactly at the instruction budget, its registers written back', () => {
  runLoopBoth(FALL_THROUGH_LOOP, { rax: 3000n, rsi: 1n, rdi: 0x300000n }, 97);
});

test('a looping trace with a handler call faults and stops at the budget as the interpreter does', () => {
  // rdi walks up a page per iteration into the absent page; rbx is never reached.
  const [a] = runLoopBoth(HANDLER_LOOP, { rax: 0n, rbx: 1n, rcx: 1000n, rdi: BigInt(ABSENT_PAGE - 300 * 4096), r8: 0x1234n },
    1_000_000, true);
  expect(a.deliveries.map((d) => [d.vector, d.rip, d.cr2])).toEqual([[14, CODE + 3, ABSENT_PAGE]]);
  runLoopBoth(HANDLER_LOOP, { rax: 0n, rbx: 1n, rcx: 1000n, rdi: 0x200000n, r8: 0x1234n }, 89);
});

// DIV inline (jit/divide.ts) raises #DE through the interpreter's handler, after a sync: a zero
// divisor after a pending CMP record, and a 32-bit quotient that does not fit.
const DIVIDE_LOOP = [
  0x48, 0x89, 0xd8,                         // loop: mov rax, rbx
  0x31, 0xd2,                               // xor edx, edx
  0x4c, 0x39, 0xc0,                         // cmp rax, r8
  0x48, 0xf7, 0xf1,                         // div rcx
  0x49, 0x01, 0xc0,                         // add r8, rax
  0x49, 0x01, 0xd1,                         // add r9, rdx
  0x89, 0xd8,                               // mov eax, ebx
  0x44, 0x89, 0xd2,                         // mov edx, r10d
  0xf7, 0xf6,                               // div esi
  0x49, 0x01, 0xc3,                         // add r11, rax
  0x49, 0x01, 0xd4,                         // add r12, rdx
  0x41, 0x83, 0xc2, 0x01,                   // add r10d, 1
  0x48, 0x83, 0xe9, 0x01,                   // sub rcx, 1
  0xeb, 0xd8,                               // jmp loop
];

test('#DE from DIV r64 by zero in a translated loop', () => {
  const [a] = runBoth(DIVIDE_LOOP, { rbx: 0x123456789abcdefn, rcx: 500n, rsi: 100_000n });
  expect(a.deliveries.map((d) => [d.vector, d.rip, d.icount])).toEqual([[0, CODE + 8, 500 * 14 + 3]]);
});

test('#DE from DIV r32 whose quotient does not fit, in a translated loop', () => {
  const [a] = runBoth(DIVIDE_LOOP, { rbx: 0x123456789abcdefn, rcx: 1_000_000n, rsi: 300n });
  expect(a.deliveries.map((d) => [d.vector, d.rip, d.icount])).toEqual([[0, CODE + 22, 300 * 14 + 8]]);
});

// With code hooks installed, a translated trace chains and loops by itself only when no hook covers
// any of its code: a hook on a later block of a trace (or its loop head) must see every execution,
// and a hook elsewhere must not change anything.
test('code hooks on a later block of a translated trace, or elsewhere, see what the interpreter shows', () => {
  const SKIP = CODE + 13, HLT = CODE + 25;
  for (const at of [SKIP, CODE, HLT]) {
    const states = JIT_MODES.map(([, opts]) => {
      const { m } = machine(opts, TRACE_LOOP, { rax: 0n, rbx: 1n, rcx: 500n, rdi: 0x100000n });
      const seen: unknown[] = [];
      m.hookAdd(HOOK_CODE, (address: number) => {
        seen.push([address, m.cpu.icount, m.cpu.regs.u32.join(), m.cpu.flags.get()]);
      }, at, at);
      const r = m.run(1_000_000);
      expect(r.reason).toBe(STOP_HALTED);
      seen.push(machineState(m, r));
      return seen;
    });
    expect(states[0].length).toBe(at === HLT ? 2 : 501);
    expect(states[1]).toEqual(states[0]);
  }
});

// IDIV inline: the quotients that do not fit (-2^63 / -1, -2^31 / -1) raise #DE through the handler.
const SIGNED_DIVIDE_LOOP = [
  0x4c, 0x89, 0xc0,                         // loop: mov rax, r8
  0x48, 0x99,                               // cqo
  0x48, 0x89, 0xcf,                         // mov rdi, rcx
  0x48, 0xf7, 0xdf,                         // neg rdi
  0x48, 0xf7, 0xff,                         // idiv rdi
  0x49, 0x01, 0xc1,                         // add r9, rax
  0x49, 0x01, 0xd2,                         // add r10, rdx
  0x44, 0x89, 0xd8,                         // mov eax, r11d
  0x99,                                     // cdq
  0x89, 0xfe,                               // mov esi, edi
  0xf7, 0xfe,                               // idiv esi
  0x49, 0x01, 0xc4,                         // add r12, rax
  0x49, 0x01, 0xd5,                         // add r13, rdx
  0x48, 0x83, 0xe9, 0x01,                   // sub rcx, 1
  0xeb, 0xd8,                               // jmp loop
];

test('#DE from IDIV r64 of -2^63 by -1 in a translated loop', () => {
  // Divisors -300 .. -1; the 32-bit division before that divides 3 by them.
  const [a] = runBoth(SIGNED_DIVIDE_LOOP, { r8: 1n << 63n, rcx: 300n, r11: 3n });
  expect(a.deliveries.map((d) => [d.vector, d.rip, d.icount])).toEqual([[0, CODE + 11, 299 * 15 + 4]]);
});

test('#DE from IDIV r32 of -2^31 by -1 in a translated loop', () => {
  const [a] = runBoth(SIGNED_DIVIDE_LOOP, { r8: 12345n, rcx: 300n, r11: 0x80000000n });
  expect(a.deliveries.map((d) => [d.vector, d.rip, d.icount])).toEqual([[0, CODE + 26, 299 * 15 + 10]]);
});

// Read-modify-write on memory (jit/rmwForms.ts): the destination is checked writable before it is
// read, so a read-only page faults with a write error code, and the flags at the fault are the
// pending record of the instruction before.
const RMW_LOOP = [
  0x48, 0x39, 0xd8,                         // loop: cmp rax, rbx
  0x48, 0x01, 0x07,                         // add [rdi], rax
  0x48, 0xff, 0x47, 0x08,                   // inc qword [rdi+0x8]
  0x48, 0x8d, 0xbf, 0x00, 0x10, 0x00, 0x00, // lea rdi, [rdi+0x1000]
  0x48, 0x83, 0xc0, 0x03,                   // add rax, 3
  0x83, 0xe9, 0x01,                         // sub ecx, 1
  0x75, 0xe6,                               // jnz loop
  0xf4,                                     // hlt
];

test('#PF from a read-modify-write on a read-only page, and on an absent one', () => {
  for (const [page, errorCode] of [[READ_ONLY_PAGE, 3], [ABSENT_PAGE, 2]]) {
    const [a, b] = runBoth(RMW_LOOP, { rax: 7n, rbx: 100n, rcx: 1000n, rdi: BigInt(page - 16 * 4096) });
    expect(a.deliveries.map((d) => [d.vector, d.errorCode, d.rip, d.cr2, d.icount])).toEqual([[14, errorCode, CODE + 3, page, 16 * 7 + 1]]);
    expect(Buffer.compare(a.m.mem.u8, b.m.mem.u8)).toBe(0);
  }
});

// A loop whose first instruction may fault before the iteration makes its own flag record: the flags
// at the fault are the previous iteration's last record, which the translation carries in locals
// from one iteration to the next (CodeState.carry) and writes back only at such a sync.
test('#PF at the start of a looping block sees the flag record of the previous iteration', () => {
  const code = [
    0x48, 0x8b, 0x17,                         // loop: mov rdx, [rdi]
    0x48, 0x8d, 0xbf, 0x00, 0x10, 0x00, 0x00, // lea rdi, [rdi+0x1000]
    0x48, 0x01, 0xd0,                         // add rax, rdx
    0x83, 0xe9, 0x01,                         // sub ecx, 1
    0x75, 0xee,                               // jnz loop
    0xf4,                                     // hlt
  ];
  // The 48th iteration loads from the absent page; ecx went from 1000 to 953 (CF = 0, SF = 0: a
  // record with its operands swapped would say CF = 1), ZF = PF = AF = OF = 0.
  const [a] = runBoth(code, { rax: 1n, rcx: 1000n, rdi: BigInt(ABSENT_PAGE - 47 * 4096) });
  expect(a.deliveries.map((d) => [d.vector, d.rip, d.cr2, d.icount, d.rflags & 0x8d5])).toEqual([[14, CODE, ABSENT_PAGE, 47 * 5, 0]]);
});
