// One reproduced selftest script as a jest suite: the script runs once on the fixture kernel,
// and every test of the kernel's script must be reported ok, with its kernel log matching the
// expected block of the 6.1 script exactly (check_result), as `klp-lab livepatch selftest`
// checks it. Each test-*.test.ts file calls this for its script, so jest runs them in parallel.

import { findSelftest, runSelftest } from '../../../livepatch/selftest/selftests';
import type { ScenarioResult } from '../../../livepatch/script/scriptRunner';

export function selftestSuite(script: string, testNames: string[]): void {
  let result: ScenarioResult;
  let stdout = '';

  beforeAll(() => {
    result = runSelftest(findSelftest(script)!, { output: { out: (s) => (stdout += s), err: (s) => (stdout += s) } });
  }, 120_000);

  test('the script runs to its end with status 0', () => {
    expect(result.status).toBe(0);
    expect(result.lab.stopped).toBe(false);
  });

  test.each(testNames)('%s: the kernel log matches the 6.1 script line for line', (name) => {
    const verdict = result.tests.find((t) => t.name === name);
    expect(verdict).toBeDefined();
    expect(verdict!.diff).toBe('');
    expect(verdict!.ok).toBe(true);
    expect(stdout).toContain(`TEST: ${name} ... ok\n`);
  });

  test('no test more or less than the kernel script has', () => {
    expect(result.tests.map((t) => t.name)).toEqual(testNames);
  });

  test('the livepatch core saw no WARN and the ftrace handler none either', () => {
    expect(result.lab.core.transition.warnings).toEqual([]);
    expect(result.lab.fentry.warnings).toEqual([]);
  });
}
