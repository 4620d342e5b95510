// test-state.sh of Linux 6.1's livepatch selftests on the fixture kernel: every test's kernel log
// must match the expected block of the kernel's script exactly (check_result), as
// `klp-lab livepatch selftest test-state` checks it.

import { findSelftest, runSelftest } from '../../../livepatch/selftest/selftests';
import type { ScenarioResult } from '../../../livepatch/script/scriptRunner';

let result: ScenarioResult;
let stdout = '';

beforeAll(() => {
  result = runSelftest(findSelftest('test-state')!, { output: { out: (s) => (stdout += s), err: (s) => (stdout += s) } });
}, 120_000);

test('the script runs to its end with status 0', () => {
  expect(result.status).toBe(0);
  expect(result.lab.stopped).toBe(false);
});

test.each(["system state modification", "taking over system state modification", "compatible cumulative livepatches", "incompatible cumulative livepatches"])('%s: the kernel log matches the 6.1 script line for line', (name) => {
  const verdict = result.tests.find((t) => t.name === name);
  expect(verdict).toBeDefined();
  expect(verdict!.diff).toBe('');
  expect(verdict!.ok).toBe(true);
  expect(stdout).toContain(`TEST: ${name} ... ok\n`);
});

test('no test more or less than the kernel script has', () => {
  expect(result.tests.map((t) => t.name)).toEqual(["system state modification", "taking over system state modification", "compatible cumulative livepatches", "incompatible cumulative livepatches"]);
});

test('the livepatch core saw no WARN and the ftrace handler none either', () => {
  expect(result.lab.core.transition.warnings).toEqual([]);
  expect(result.lab.fentry.warnings).toEqual([]);
});
