// Trace selection (jit/traceSelect.ts): a trace ends at the block whose branch goes back to its head,
// so that the translation loops inside its function, whatever the links say. A trace head's links
// record where its whole translated trace left, not its own successors, and blocks that run inside a
// trace are not counted: both can point the selection past the loop (seen on cpubench's insertion
// sort, where the trace then ran one iteration per call).
import { Machine, STOP_HALTED } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';
import { selectTrace } from '../../../emulator/jit/traceSelect';
import { traceSource } from '../../../emulator/jit/translateBlock';
import type { Block } from '../../../emulator/decode/blockCache';
import { FALL_THROUGH_LOOP } from './jitModes';

const CODE = 0x100000;
const NEXT = CODE + 2, AGAIN = CODE + 12, OUT = CODE + 28;

function link(from: Block, slot: 0 | 1, va: number, to: Block, m: Machine): void {
  if (slot === 0) { from.linkVa0 = va; from.linkBlock0 = to; from.linkEpoch0 = m.cpu.mmu.epoch; from.linkCpl0 = m.cpu.cpl; }
  else { from.linkVa1 = va; from.linkBlock1 = to; from.linkEpoch1 = m.cpu.mmu.epoch; from.linkCpl1 = m.cpu.cpl; }
}

test('a trace ends at the block that branches back to its head, and loops', () => {
  const m = new Machine({ memory: 16 << 20, jit: false });
  startDirect64(m, { code: Uint8Array.from(FALL_THROUGH_LOOP), entry: CODE });
  m.regWrite('rax', 20n); m.regWrite('rsi', 1n); m.regWrite('rdi', 0x300000n);
  expect(m.run(10_000).reason).toBe(STOP_HALTED);
  const [next, again, out] = [NEXT, AGAIN, OUT].map((va) => m.cache.lookup(va, 64)!);
  expect([next, again, out].every((b) => b !== undefined)).toBe(true);
  // As a trace head's links would be: `again` left for `out` (often) and for `next`.
  for (const b of [next, again, out]) { b.linkVa0 = b.linkVa1 = NaN; b.linkBlock0 = b.linkBlock1 = null; }
  link(next, 0, AGAIN, again, m);
  link(again, 0, OUT, out, m);
  link(again, 1, NEXT, next, m);
  next.execCount = 100; again.execCount = 100; out.execCount = 1000;
  const { segs } = selectTrace(next, NEXT, m.cpu.mmu.epoch, m.cpu.cpl);
  expect(segs.map((g) => g.offset)).toEqual([0, AGAIN - NEXT]);
  expect(traceSource(segs).loops).toBe(true);
  // From `again` the loop closes at `next`'s fall-through, though `next`'s links prefer `out`.
  link(again, 0, NEXT, next, m);
  link(again, 1, OUT, out, m);
  link(next, 0, OUT, out, m);
  link(next, 1, AGAIN, again, m);
  again.execCount = 100; next.execCount = 1000; out.execCount = 500;
  const fromAgain = selectTrace(again, AGAIN, m.cpu.mmu.epoch, m.cpu.cpl).segs;
  expect(fromAgain.map((g) => g.offset)).toEqual([0, NEXT - AGAIN]);
  expect(traceSource(fromAgain).loops).toBe(true);
});
