// A livepatch study's JSON (fixture kernel, a patch, ground-truth checker on) is the same with the
// JIT and with --no-jit, except for the host time it took. The study builds its machines itself, so
// the mode is set as the CLI sets it: the process default (emulator/jit/jitDefault.ts).
import * as path from 'path';
import { runStudy, studyJson } from '../../../livepatch/study/livepatchStudy';
import { setJitDefault, jitDefault } from '../../../emulator/jit/jitDefault';
import { FIXTURES } from '../../helpers/fixtures';

function study(jit: boolean): Record<string, unknown> {
  setJitDefault(jit);
  try {
    const r = runStudy({
      image: path.join(FIXTURES, 'kernel', 'kernel.elf'), patch: path.join(FIXTURES, 'livepatch', 'klp_chain_a2.o'),
      runs: 2, seed: 7, kernel: '6.1', unwinder: 'fp', immediate: false, cmdline: 'scale=2 nap=20000',
      window: [8e6, 20e6], jitterNs: 200000, maxWait: 30e9, shard: [0, 1],
    });
    const json = JSON.parse(studyJson(r)) as Record<string, unknown>;
    expect(json.hostSeconds).toBeGreaterThan(0);
    delete json.hostSeconds;
    return json;
  } finally {
    setJitDefault(true);
  }
}

test('livepatch study JSON is identical with and without the JIT', () => {
  const interpreted = study(false);
  const translated = study(true);
  expect(jitDefault()).toBe(true);
  expect((interpreted.perRun as unknown[]).length).toBe(2);
  expect(interpreted.completed).toBeGreaterThan(0);
  expect(translated).toEqual(interpreted);
});
