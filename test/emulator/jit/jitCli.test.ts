// --no-jit through the command line: the same console and exit status as with the JIT, and the
// process default it sets (the environment variable study workers inherit) turns the JIT off in
// machines built without an explicit option.
import * as path from 'path';
import { spawnSync } from 'child_process';
import { Machine } from '../../../emulator/machine';
import { setJitDefault, jitDefault, NO_JIT_ENV, WASM_THRESHOLD, WASM_THRESHOLD_ENV, studyTierDefaults } from '../../../emulator/jit/jitDefault';
import { REPO_ROOT, FIXTURES } from '../../helpers/fixtures';

const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

test('klp-lab run --no-jit prints the same console and exits the same way', () => {
  const image = path.join(FIXTURES, 'boot', 'timer.elf');
  const runs = [[], ['--no-jit']].map((extra) => spawnSync(process.execPath, [CLI, 'run', image, ...extra], { encoding: 'utf8' }));
  expect(runs[0].stdout.length).toBeGreaterThan(20);
  expect(runs[1].stdout).toBe(runs[0].stdout);
  expect(runs[1].status).toBe(runs[0].status);
});

test('the process default follows --no-jit through the environment', () => {
  expect(jitDefault()).toBe(true);
  setJitDefault(false);
  try {
    expect(process.env[NO_JIT_ENV]).toBe('1');
    expect(new Machine({ memory: 2 << 20 }).jit).toBe(false);
    expect(new Machine({ memory: 2 << 20, jit: true }).jit).toBe(true);
  } finally {
    setJitDefault(true);
  }
  expect(new Machine({ memory: 2 << 20 }).jit).toBe(true);
});

test('KLP_LAB_WASM_THRESHOLD: 0 turns the WebAssembly tier off with the same console; a value that is not a whole number is refused in one line', () => {
  const image = path.join(FIXTURES, 'boot', 'timer.elf');
  const run = (value: string) => spawnSync(process.execPath, [CLI, 'run', image], { encoding: 'utf8', env: { ...process.env, KLP_LAB_WASM_THRESHOLD: value } });
  const [tier, off] = [run('1'), run('0')];
  expect(tier.stdout.length).toBeGreaterThan(20);
  expect(off.stdout).toBe(tier.stdout);
  expect(off.status).toBe(tier.status);
  for (const bad of ['abc', '-5', '1e3']) {
    const r = run(bad);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`klp-lab: KLP_LAB_WASM_THRESHOLD must be a whole number of executions (0 turns the WebAssembly tier off), not '${bad}'\n`);
  }
  expect(new Machine({ memory: 2 << 20 }).wasmThreshold).toBe(WASM_THRESHOLD);
  expect(new Machine({ memory: 2 << 20, jit: false }).wasmThreshold).toBe(0);
});

test('a fixture livepatch study\'s machines run without the WebAssembly tier, unless the environment sets it', () => {
  const before = process.env[WASM_THRESHOLD_ENV];
  try {
    delete process.env[WASM_THRESHOLD_ENV];
    expect(new Machine({ memory: 2 << 20 }).wasmThreshold).toBe(WASM_THRESHOLD);
    studyTierDefaults();
    expect(new Machine({ memory: 2 << 20 }).wasmThreshold).toBe(0);
    process.env[WASM_THRESHOLD_ENV] = '';
    studyTierDefaults();
    expect(new Machine({ memory: 2 << 20 }).wasmThreshold).toBe(0);
    process.env[WASM_THRESHOLD_ENV] = '500';
    studyTierDefaults();
    expect(new Machine({ memory: 2 << 20 }).wasmThreshold).toBe(500);
  } finally {
    if (before === undefined) delete process.env[WASM_THRESHOLD_ENV]; else process.env[WASM_THRESHOLD_ENV] = before;
  }
});
