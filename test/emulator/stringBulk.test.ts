// The interpreter's bulk path for REP STOS/MOVS (exec/stringBulk.ts) against the same instructions
// run one element at a time: the string program (REP STOS/MOVS of every size, across page ends,
// overlapping both ways) runs in run() slices of odd sizes, so the budget cuts the REP instructions at
// many points, and both ways must leave the same machine and the same memory; so must the fixture
// kernel's boot, whose 32-bit entry code clears memory with rep stosb.
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_LIMIT } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import { stringBulk } from '../../emulator/exec/stringBulk';
import { machineState, runSliced } from './jit/jitModes';
import { STRINGS } from './stringPrograms';

const CODE = 0x100000;

function run(code: number[], regs: Record<string, bigint>, slice: number, bulk: boolean) {
  stringBulk.on = bulk;
  try {
    return runSliced({ jit: false }, code, regs, slice, CODE);
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

test('the fixture kernel\'s PVH entry clears memory with rep stosb in 32-bit mode: in bulk, the same boot', () => {
  const image = path.join(__dirname, '..', '..', 'fixtures', 'kernel', 'kernel.elf');
  const bytes = fs.readFileSync(image);
  const boot = (bulk: boolean) => {
    stringBulk.on = bulk;
    try {
      const m = new Machine({ jit: false });
      loadPvh(m, bytes, image);
      const before = stringBulk.iterations;
      let in32 = 0;
      let r = m.run(7_919);
      for (let slices = 1; r.reason === STOP_LIMIT && slices < 400; slices++) {
        const at = stringBulk.iterations;
        const bits = m.cpu.bits;
        r = m.run(7_919);
        if (bits === 32) in32 += stringBulk.iterations - at;
      }
      return { m, state: machineState(m, r), bulkIterations: stringBulk.iterations - before, in32 };
    } finally {
      stringBulk.on = true;
    }
  };
  const one = boot(false);
  const bulk = boot(true);
  expect(one.bulkIterations).toBe(0);
  expect(bulk.in32).toBeGreaterThan(100_000);
  expect(bulk.state).toEqual(one.state);
  expect(Buffer.compare(one.m.mem.u8, bulk.m.mem.u8)).toBe(0);
});
