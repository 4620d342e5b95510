// A #PF raised by fetching the first instruction after a control transfer belongs to that
// instruction: the exception frame holds the target RIP, and the transfer is not run again. (The
// real-Linux boot met this: an IRETQ to a user page not yet faulted in was re-run at CPL 3.)
import { Machine, STOP_HALTED } from '../../emulator/machine';
import { startDirect64, PD_PADDR } from '../../emulator/loader/direct64';

const CODE = 0x100000, IDT = 0x8000, HANDLER = 0x100500;

function machineWithAbsentPage(code: number[]): Machine {
  const m = new Machine({ memory: 16 * 1024 * 1024 });
  startDirect64(m, { code: Uint8Array.from(code), entry: CODE });
  m.cpu.idtBase = IDT; m.cpu.idtLimit = 256 * 16 - 1;
  // 0x400000-0x5fffff as 4 KiB pages, 0x401000 absent.
  const PT = 0x4000, dv = m.mem.dv;
  for (let i = 0; i < 512; i++) { dv.setUint32(PT + 8 * i, (0x400000 + i * 4096) | 7, true); dv.setUint32(PT + 8 * i + 4, 0, true); }
  dv.setUint32(PT + 8, 0, true);
  dv.setUint32(PD_PADDR + 16, PT | 7, true);
  m.cpu.mmu.flush();
  // #PF gate → handler: saved RIP to [0x7000], saved RSP to [0x7008], hlt.
  dv.setUint32(IDT + 14 * 16, (HANDLER & 0xffff) | (0x10 << 16), true);
  dv.setUint32(IDT + 14 * 16 + 4, ((HANDLER & 0xffff0000) | 0x8e00) >>> 0, true);
  m.physWrite(HANDLER, Uint8Array.from([
    0x48, 0x8b, 0x44, 0x24, 0x08,                   // mov rax, [rsp+8]   (RIP)
    0x48, 0x89, 0x04, 0x25, 0x00, 0x70, 0x00, 0x00, // mov [0x7000], rax
    0x48, 0x8b, 0x44, 0x24, 0x20,                   // mov rax, [rsp+32]  (RSP)
    0x48, 0x89, 0x04, 0x25, 0x08, 0x70, 0x00, 0x00, // mov [0x7008], rax
    0xf4,                                           // hlt
  ]));
  return m;
}

describe('fetch faults after a control transfer', () => {
  test('CALL into an absent page: the frame holds the target, the return address is pushed once', () => {
    const m = machineWithAbsentPage([0xe8, 0xfb, 0x0f, 0x30, 0x00]); // call 0x401000
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(m.intr.recent.map((e) => e.vector)).toEqual([14]);
    expect(m.mem.dv.getBigUint64(0x7000, true)).toBe(0x401000n);
    expect(m.mem.dv.getBigUint64(0x7008, true)).toBe(0x80000n - 8n);
  });

  test('RET into an absent page: the frame holds the target, RSP is popped once', () => {
    const m = machineWithAbsentPage([
      0x68, 0x00, 0x10, 0x40, 0x00, // push 0x401000
      0xc3,                         // ret
    ]);
    expect(m.run(100).reason).toBe(STOP_HALTED);
    expect(m.mem.dv.getBigUint64(0x7000, true)).toBe(0x401000n);
    expect(m.mem.dv.getBigUint64(0x7008, true)).toBe(0x80000n);
  });
});
