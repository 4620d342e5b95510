// test-callbacks.sh of Linux 6.1's livepatch selftests on the fixture kernel: every test's kernel log
// must match the expected block of the kernel's script exactly (check_result), as
// `klp-lab livepatch selftest test-callbacks` checks it.

import { findSelftest, runSelftest } from '../../../livepatch/selftest/selftests';
import type { ScenarioResult } from '../../../livepatch/script/scriptRunner';

let result: ScenarioResult;
let stdout = '';

beforeAll(() => {
  result = runSelftest(findSelftest('test-callbacks')!, { output: { out: (s) => (stdout += s), err: (s) => (stdout += s) } });
}, 120_000);

test('the script runs to its end with status 0', () => {
  expect(result.status).toBe(0);
  expect(result.lab.stopped).toBe(false);
});

test.each(["target module before livepatch", "module_coming notifier", "module_going notifier", "module_coming and module_going notifiers", "target module not present", "pre-patch callback -ENODEV", "module_coming + pre-patch callback -ENODEV", "multiple target modules", "busy target module", "multiple livepatches", "atomic replace"])('%s: the kernel log matches the 6.1 script line for line', (name) => {
  const verdict = result.tests.find((t) => t.name === name);
  expect(verdict).toBeDefined();
  expect(verdict!.diff).toBe('');
  expect(verdict!.ok).toBe(true);
  expect(stdout).toContain(`TEST: ${name} ... ok\n`);
});

test('no test more or less than the kernel script has', () => {
  expect(result.tests.map((t) => t.name)).toEqual(["target module before livepatch", "module_coming notifier", "module_going notifier", "module_coming and module_going notifiers", "target module not present", "pre-patch callback -ENODEV", "module_coming + pre-patch callback -ENODEV", "multiple target modules", "busy target module", "multiple livepatches", "atomic replace"]);
});

test('the livepatch core saw no WARN and the ftrace handler none either', () => {
  expect(result.lab.core.transition.warnings).toEqual([]);
  expect(result.lab.fentry.warnings).toEqual([]);
});
