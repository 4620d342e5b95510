// Host principle: nothing the guest does throws a host exception. Random byte sequences (seeded) run in
// 64-bit mode at CPL 0 and at CPL 3, with and without an IDT, and in 32-bit protected mode with paging
// off; every run must end with a stop reason.
import { Machine, STOP_NONE } from '../../emulator/machine';
import { startDirect64 } from '../../emulator/loader/direct64';

/** xorshift32: deterministic random bytes for a seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

const SEED = Number(process.env.KLP_FUZZ_SEED ?? 20251125);

test(`random code never throws out of run() (seed ${SEED})`, () => {
  const r = rng(SEED);
  const m = new Machine({ memory: 4 * 1024 * 1024 });
  let stops = 0;
  for (let prog = 0; prog < 400; prog++) {
    const code = new Uint8Array(96);
    for (let i = 0; i < code.length; i++) code[i] = r() & 0xff;
    // Bias towards common opcodes sometimes: REX.W prefixes and 0x0f maps.
    if (prog % 3 === 0) for (let i = 0; i < code.length; i += 7) code[i] = [0x48, 0x0f, 0x66, 0xf3][r() & 3];
    startDirect64(m, { code });
    m.cpu.idtBase = 0x8000; m.cpu.idtLimit = (prog & 1) ? 0xfff : 0;
    // IDT: every vector to a HLT at 0x9000 (present, DPL 3 so INT n from ring 3 works).
    for (let v = 0; v < 256; v++) {
      m.mem.dv.setUint32(0x8000 + 16 * v, 0x9000 | (0x10 << 16), true);
      m.mem.dv.setUint32(0x8000 + 16 * v + 4, 0xee00, true);
      m.mem.dv.setBigUint64(0x8000 + 16 * v + 8, 0n, true);
    }
    m.mem.u8[0x9000] = 0xf4;
    for (let k = 0; k < 16; k++) m.cpu.regs.set64(k, r(), r() & 1 ? r() : 0);
    m.cpu.regs.setAddr(4, 0x80000);
    if (prog % 4 === 3) { m.cpu.setCpl(3); m.cpu.sel[1] = 0x33; m.cpu.sel[2] = 0x2b; }
    if (prog % 5 === 4) m.resetProtected32(0x100000); // the PVH entry state: 32-bit, paging off
    m.compileThreshold = prog % 2 === 0 ? 1 : 1000; // half the programs through compiled blocks
    let res;
    expect(() => { res = m.run(300); }).not.toThrow();
    expect(res!.reason).not.toBe(STOP_NONE);
    stops++;
  }
  expect(stops).toBe(400);
});
