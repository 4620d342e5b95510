// Integration: the fixture kernel booted in klp-lab's emulator, stopped at seeded instruction
// counts; every task is unwound and judged against the emulator's ground truth. Frame pointers
// are judged on kernel.elf, ORC on kernel-nofp.elf (a kernel is built for one unwinder or the
// other). A wrong-but-reliable trace is allowed only in a function that Linux 6.1 objtool
// warned about (test/golden/objtool-kernel): the deliberately broken ones.

import * as fs from 'fs';
import * as path from 'path';
import { StackInspector } from '../../../livepatch/unwind/stackInspector';
import { StoppedGuest } from '../../../livepatch/observe/stoppedGuest';
import { culprit, loadObjtoolWarnings, stopPoints } from '../../../livepatch/study/unwindStudy';

const KERNEL = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'kernel');
const SEED = 20261125;
const WINDOW = 2_000_000;
const warnings = loadObjtoolWarnings();

function study(image: string, which: 'fp' | 'orc') {
  const g = new StoppedGuest(new Uint8Array(fs.readFileSync(path.join(KERNEL, image))), image);
  const insp = new StackInspector(g.view, g.image, [which]);
  const counts = { correct_reliable: 0, refused: 0, wrong_reliable: 0, wrong_refused: 0 };
  const unpredicted: string[] = [];
  const predicted = new Set<string>();
  let stops = 0;
  let tasks = 0;
  const points = [5000, 12000, 20000, ...stopPoints(16, SEED, WINDOW, [0, 1])].sort((a, b) => a - b);
  for (const at of points) {
    if (!g.runTo(at)) break;
    stops++;
    for (const t of g.view.tasks()) {
      const tu = insp.unwindTask(t, g.truth);
      const run = tu.runs[0];
      tasks++;
      counts[run.verdict!]++;
      if (run.verdict === 'wrong_reliable') {
        const fn = culprit(g.image, run.entries, tu.truth!);
        if (warnings[fn]) predicted.add(warnings[fn]);
        else {
          const ks = g.image.kallsyms;
          unpredicted.push(`${at} ${t.name} (${fn}): ${run.entries.map((a) => ks.backtrace(a)).join(' < ')} / truth ${tu.truth!.map((a) => ks.backtrace(a)).join(' < ')}`);
        }
      }
    }
  }
  return { counts, unpredicted, predicted, stops, tasks };
}

describe('unwinding the fixture kernel at seeded stop points', () => {
  test('frame pointers on kernel.elf: wrong-but-reliable traces only in functions objtool warned about', () => {
    const r = study('kernel.elf', 'fp');
    expect(r.stops).toBeGreaterThan(0);
    expect(r.tasks).toBeGreaterThanOrEqual(r.stops);
    expect(r.unpredicted).toEqual([]);
    expect(r.counts.correct_reliable).toBeGreaterThan(0);
  }, 120000);

  test('ORC on kernel-nofp.elf: wrong-but-reliable traces only in functions objtool warned about', () => {
    const r = study('kernel-nofp.elf', 'orc');
    expect(r.stops).toBeGreaterThan(0);
    expect(r.unpredicted).toEqual([]);
    expect(r.counts.correct_reliable).toBeGreaterThan(0);
  }, 120000);
});
