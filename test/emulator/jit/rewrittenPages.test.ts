// Pages whose code keeps being written stay interpreted while they are written, and are translated
// again once quiet (Machine rewriteQuiet): a loop patches its own immediate five times, then a second
// loop on the same page runs 300,000 instructions. Both modes must leave the same machine.
import { INTERPRETER, runSliced } from './jitModes';
import type { MachineOptions } from '../../../emulator/machine';
import { clearShared } from '../../../emulator/jit/sharedCode';

const CODE = 0x100000;
const QUIET = 0x100000 + 0x1e;

// Assembled with GNU as (Intel syntax); the comments are objdump's.
const PATCHED_THEN_QUIET = [
  // outer:
  0x88, 0x0d, 0x08, 0x00, 0x00, 0x00,       // mov BYTE PTR [rip+0x8],cl # the immediate of add rax,0x1
  0xba, 0xd0, 0x07, 0x00, 0x00,             // mov edx,0x7d0
  // patch:
  0x48, 0x83, 0xc0, 0x01,                   // add rax,0x1
  0x83, 0xea, 0x01,                         // sub edx,0x1
  0x75, 0xf7,                               // jne patch
  0x83, 0xe9, 0x01,                         // sub ecx,0x1
  0x75, 0xe7,                               // jne outer
  0xba, 0xa0, 0x86, 0x01, 0x00,             // mov edx,0x186a0
  // quiet:
  0x48, 0x01, 0xd0,                         // add rax,rdx
  0x83, 0xea, 0x01,                         // sub edx,0x1
  0x75, 0xf8,                               // jne quiet
  0xf4,                                     // hlt
];

function run(opts: MachineOptions) {
  clearShared(); // a translation another machine of this process made would be taken at once
  return runSliced(opts, PATCHED_THEN_QUIET, { rcx: 5n }, 100_003, CODE);
}

test('a page written five times is translated again after rewriteQuiet instructions, and agrees with the interpreter', () => {
  const ref = run(INTERPRETER);
  // 5 patches of 2000 iterations of 3 instructions each, then 100,000 of 3.
  expect(ref.m.regRead('rax')).toBe(BigInt((1 + 2 + 3 + 4 + 5) * 2000 + (100000 * 100001) / 2));
  const quiet = run({ jit: true, compileThreshold: 2, rewriteQuiet: 50_000 });
  const never = run({ jit: true, compileThreshold: 2, rewriteQuiet: Infinity });
  for (const r of [quiet, never]) {
    expect(r.state).toEqual(ref.state);
    expect(r.m.cache.invalidations[CODE >>> 12]).toBe(5);
  }
  expect(quiet.m.cache.lookup(QUIET, 64)!.compiled).not.toBeNull();
  expect(never.m.cache.lookup(QUIET, 64)!.compiled).toBeNull();
});
