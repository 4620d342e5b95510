// Execution counts carry over between the machines of a process (jit/sharedCode.ts execCounts):
// a study runs the same kernel in a new machine per run and releases each when its run is done
// (Machine.release), and a block that each run executes fewer times than the threshold is translated
// once the runs together reach it; later machines then start with the translation.
import { Machine, STOP_HALTED } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';
import { carryExecCounts, clearShared } from '../../../emulator/jit/sharedCode';
import { machineState, INTERPRETER } from './jitModes';

const CODE = 0x100000;
const LOOP = [
  0x48, 0x83, 0xc0, 0x03, // loop: add rax, 3
  0x48, 0x31, 0xc3,       // xor rbx, rax
  0x83, 0xe9, 0x01,       // sub ecx, 1
  0x75, 0xf4,             // jnz loop
  0xf4,                   // hlt
];

/** One machine runs the loop to its HLT; it is released (its counts handed on) unless `release` is false. */
function runOnce(jit: boolean, release = true) {
  const m = new Machine({ memory: 16 << 20, ...(jit ? { jit: true, compileThreshold: 1000 } : INTERPRETER) });
  startDirect64(m, { code: Uint8Array.from(LOOP), entry: CODE });
  m.regWrite('rcx', 400n);
  const r = m.run(1_000_000);
  expect(r.reason).toBe(STOP_HALTED);
  const result = { m, compiled: m.cache.lookup(CODE, 64)?.compiled ?? null, state: machineState(m, r) };
  if (release) m.release();
  return result;
}

const compiledIn = (runs: { compiled: unknown }[]) => runs.map((r) => r.compiled !== null);

test('a block that each machine runs 400 times is translated in the third machine at a threshold of 1000', () => {
  clearShared();
  const reference = runOnce(false).state;
  clearShared();
  const runs = [runOnce(true), runOnce(true), runOnce(true), runOnce(true)];
  expect(compiledIn(runs)).toEqual([false, false, true, true]);
  for (const r of runs) expect(r.state).toEqual(reference);
});

test('a machine that is not released hands nothing on', () => {
  clearShared();
  const first = runOnce(true, false);
  expect(compiledIn([first, runOnce(true, false), runOnce(true, false)])).toEqual([false, false, false]);
  // Released late, the first machine's 400 and two more runs' reach 1000 in the third.
  first.m.release();
  expect(compiledIn([runOnce(true), runOnce(true)])).toEqual([false, true]);
});

test('with carrying turned off (a study whose threads fill every core), counts do not carry over', () => {
  clearShared();
  const before = carryExecCounts(false);
  try {
    expect(compiledIn([runOnce(true), runOnce(true), runOnce(true)])).toEqual([false, false, false]);
  } finally {
    carryExecCounts(before);
  }
  expect(before).toBe(true);
  // On again: three more runs add up to the threshold.
  expect(compiledIn([runOnce(true), runOnce(true), runOnce(true)])).toEqual([false, false, true]);
});
