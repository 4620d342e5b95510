// The transition engine's cost: one klp_try_complete_transition pass over 10,000 tasks, each
// with a 12-entry reliable stack trace, against a patch of 8 functions (target: 50 ms).
// The kernel is the in-memory fake of the tests, so this measures the engine, not the guest.
// Then the study's rate on the real guest: runs per second of `klp-lab livepatch study`
// (each run boots the fixture kernel, patches it and watches the transition to its end).

import * as path from 'path';
import { KlpCore } from '../../livepatch/core/klpCore';
import { KlpPatch } from '../../livepatch/model/patch';
import { FakeKernel } from '../livepatch/fakeKernel';
import { seededRandom } from '../helpers/random';
import { runStudy } from '../../livepatch/study/livepatchStudy';
import { REPO_ROOT } from '../helpers/fixtures';
import { setJitDefault } from '../../emulator/jit/jitDefault';

export function run(): void {
  const TASKS = 10_000;
  const FUNCS = 8;
  const random = seededRandom(42);
  const k = new FakeKernel();
  for (let i = 0; i < TASKS; i++) {
    // Stacks outside the patched functions, except one task in 50, which keeps the transition open.
    const stack = Array.from({ length: 12 }, () => 0x100000 + Math.floor(random() * 0x100000));
    if (i % 50 === 0) stack[6] = 0x1000 + 0x40;
    k.addTask(`task${i}`, i % 3 === 0 ? 'kthread' : 'user', stack);
  }
  k.addIdle(0);
  const core = new KlpCore(k, k, { log: { debug: false } });
  const patch = new KlpPatch('bench');
  const obj = patch.addObject(null);
  for (let f = 0; f < FUNCS; f++) {
    Object.assign(obj.addFunc(`f${f}`, 0x900000 + f * 0x1000), { oldFunc: 0x1000 + f * 0x200, oldSize: 0x180, newSize: 0x100 });
  }
  const t0 = process.hrtime.bigint();
  core.enable(patch); // init, start and the first try-complete pass
  const firstMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const passes = 20;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < passes; i++) core.transition.tryComplete();
  const passMs = Number(process.hrtime.bigint() - t1) / 1e6 / passes;
  const blocked = core.transition.attempts.at(-1)!.results.filter((r) => !r.result.switched).length;
  console.log(`enable with the first try-complete pass over ${TASKS} tasks: ${firstMs.toFixed(1)} ms`);
  console.log(`one try-complete pass over ${TASKS} tasks (${blocked} still blocked): ${passMs.toFixed(2)} ms (target 50 ms)`);

  // Each mode twice in this process: the second study of a mode shows the warm rate (the first
  // one decodes and, with the JIT, compiles the hot blocks, which later runs share).
  const runs = 6;
  const image = path.join(REPO_ROOT, 'fixtures', 'kernel', 'kernel.elf');
  const patchObject = path.join(REPO_ROOT, 'fixtures', 'livepatch', 'klp_chain_a2.o');
  const rate: Record<string, number> = {};
  for (const jit of [false, true]) {
    setJitDefault(jit);
    try {
      for (const pass of ['first', 'warm']) {
        const study = runStudy({
          image, patch: patchObject, runs, seed: 1, kernel: '6.1', unwinder: 'fp', immediate: false, cmdline: 'scale=2 nap=20000',
          window: [8e6, 20e6], jitterNs: 200000, maxWait: 30e9, shard: [0, 1],
        });
        const mode = jit ? 'JIT' : 'interpreter (--no-jit)';
        rate[`${jit}/${pass}`] = runs / study.hostSeconds;
        console.log(`livepatch study (klp_chain_a2, fp, ${runs} runs, checker on), ${mode}, ${pass}: ${(runs / study.hostSeconds).toFixed(2)} runs/s ` +
          `(${(study.hostSeconds / runs * 1000).toFixed(0)} ms per run; ${study.completed}/${runs} completed, ${study.violations} violations)`);
      }
    } finally {
      setJitDefault(true);
    }
  }
  console.log(`study speed, JIT/interpreter: ${(rate['true/warm'] / rate['false/warm']).toFixed(2)}x warm, ${(rate['true/first'] / rate['false/first']).toFixed(2)}x first`);
}
