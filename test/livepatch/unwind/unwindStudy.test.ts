// The study's plumbing: seeded stop points, shards that partition them, merging shard results
// into exactly the unsharded result, and the chart.

import * as fs from 'fs';
import * as path from 'path';
import { StoppedGuest } from '../../../livepatch/observe/stoppedGuest';
import { mergeStudies, parseStudyJson, runStudy, stopPoints, studySvg, type StudyOptions } from '../../../livepatch/study/unwindStudy';

const IMAGE = path.resolve(__dirname, '..', '..', '..', 'fixtures', 'kernel', 'kernel.elf');
const bytes = new Uint8Array(fs.readFileSync(IMAGE));
const boot = () => new StoppedGuest(bytes, 'kernel.elf');

test('stop points: seeded, ascending, in range, and shards partition them', () => {
  const all = stopPoints(200, 42, 1_000_000, [0, 1]);
  expect(all).toEqual(stopPoints(200, 42, 1_000_000, [0, 1]));
  expect(all).not.toEqual(stopPoints(200, 43, 1_000_000, [0, 1]));
  expect(all.every((x, i) => x >= 1 && x < 1_000_000 && (i === 0 || all[i - 1] <= x))).toBe(true);
  const parts = [0, 1, 2].map((i) => stopPoints(200, 42, 1_000_000, [i, 3]));
  expect(parts.flat().sort((a, b) => a - b)).toEqual(all);
});

test('two shards merge into the unsharded study, counts and causes alike', () => {
  const opts: StudyOptions = { samples: 8, seed: 5, unwinders: ['fp'], version: '6.1', shard: [0, 1], maxInsns: 1_500_000 };
  const whole = runStudy(boot, 'kernel.elf', opts);
  const a = runStudy(boot, 'kernel.elf', { ...opts, shard: [0, 2] });
  const b = runStudy(boot, 'kernel.elf', { ...opts, shard: [1, 2] });
  const merged = mergeStudies([parseStudyJson(JSON.stringify(a), 'a'), parseStudyJson(JSON.stringify(b), 'b')]);
  expect(whole.stopPoints).toBe(8);
  expect(whole.tasksUnwound).toBeGreaterThan(8);
  expect(merged.samples).toBe(8);
  expect(merged.stopPoints).toBe(whole.stopPoints);
  expect(merged.tasksUnwound).toBe(whole.tasksUnwound);
  const pick = (r: typeof whole) => {
    const c = r.unwinders.fp!;
    return { cr: c.correct_reliable, r: c.refused, wr: c.wrong_reliable, wf: c.wrong_refused, causes: c.byCause, fns: c.byFunction };
  };
  expect(pick(merged)).toEqual(pick(whole));
  const svg = studySvg(merged);
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain(`correct_reliable ${whole.unwinders.fp!.correct_reliable}`);
}, 120000);

test('a foreign JSON file is refused', () => {
  expect(() => parseStudyJson('{"a":1}', 'x.json')).toThrow('x.json: not a klp-lab unwind study result');
});
