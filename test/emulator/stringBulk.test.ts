// The interpreter's bulk path for REP STOS/MOVS (exec/stringBulk.ts) against the same instructions
// run one element at a time: the string program (REP STOS/MOVS of every size, across page ends,
// overlapping both ways) runs in run() slices of odd sizes, so the budget cuts the REP instructions at
// many points, and both ways must leave the same machine and the same memory.
import { Machine, STOP_HALTED, STOP_LIMIT } from '../../emulator/machine';
import { startDirect64 } from '../../emulator/loader/direct64';
import { stringBulk } from '../../emulator/exec/stringBulk';
import { machineState } from './jit/jitModes';
import { STRINGS } from './stringPrograms';

const CODE = 0x100000;

function run(code: number[], regs: Record<string, bigint>, slice: number, bulk: boolean) {
  stringBulk.on = bulk;
  try {
    const m = new Machine({ memory: 16 << 20, jit: false });
    startDirect64(m, { code: Uint8Array.from(code), entry: CODE });
    for (const [r, v] of Object.entries(regs)) m.regWrite(r as never, v);
    let r = m.run(slice), slices = 1;
    while (r.reason === STOP_LIMIT) { r = m.run(slice); slices++; }
    expect(r.reason).toBe(STOP_HALTED);
    return { m, state: machineState(m, r), slices };
  } finally {
    stringBulk.on = true;
  }
}

function bothWays(code: number[], regs: Record<string, bigint>, slice: number) {
  const before = stringBulk.iterations;
  const one = run(code, regs, slice, false);
  expect(stringBulk.iterations).toBe(before);
  const bulk = run(code, regs, slice, true);
  expect(bulk.state).toEqual(one.state);
  expect(Buffer.compare(one.m.mem.u8, bulk.m.mem.u8)).toBe(0);
  return { one, bulk, bulkIterations: stringBulk.iterations - before };
}

test.each([997, 1009, 65_537])('REP STOS/MOVS in bulk agree with one element at a time, slices of %i', (slice) => {
  const { one, bulkIterations } = bothWays(STRINGS, { rbx: 0x2545f4914f6cdd1dn, rbp: 300n }, slice);
  expect(one.slices).toBeGreaterThan(10);
  expect(bulkIterations).toBeGreaterThan(20_000);
});

test('with the direction flag set, nothing runs in bulk and the result agrees', () => {
  const { bulkIterations } = bothWays([0xfd, ...STRINGS], { rbx: 0x1234567n, rbp: 50n }, 1009);
  expect(bulkIterations).toBe(0);
});
