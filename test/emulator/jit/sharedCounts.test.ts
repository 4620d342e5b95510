// Execution counts carry over between the machines of a process (jit/sharedCode.ts execCounts):
// a study runs the same kernel in a new machine per run and releases each when its run is done
// (Machine.release), and a block that each run executes fewer times than the threshold is translated
// once the runs together reach it; later machines then start with the translation.
import { Machine, STOP_HALTED } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';
import { clearShared } from '../../../emulator/jit/sharedCode';
import { machineState, INTERPRETER } from './jitModes';

const CODE = 0x100000;
const LOOP = [
  0x48, 0x83, 0xc0, 0x03, // loop: add rax, 3
  0x48, 0x31, 0xc3,       // xor rbx, rax
  0x83, 0xe9, 0x01,       // sub ecx, 1
  0x75, 0xf4,             // jnz loop
  0xf4,                   // hlt
];

function runOnce(jit: boolean) {
  const m = new Machine({ memory: 16 << 20, ...(jit ? { jit: true, compileThreshold: 1000 } : INTERPRETER) });
  startDirect64(m, { code: Uint8Array.from(LOOP), entry: CODE });
  m.regWrite('rcx', 400n);
  const r = m.run(1_000_000);
  expect(r.reason).toBe(STOP_HALTED);
  const result = { compiled: m.cache.lookup(CODE, 64)?.compiled ?? null, state: machineState(m, r) };
  m.release();
  return result;
}

test('a block that each machine runs 400 times is translated in the third machine at a threshold of 1000', () => {
  clearShared();
  const reference = runOnce(false).state;
  clearShared();
  const runs = [runOnce(true), runOnce(true), runOnce(true), runOnce(true)];
  expect(runs.map((r) => r.compiled !== null)).toEqual([false, false, true, true]);
  for (const r of runs) expect(r.state).toEqual(reference);
});
