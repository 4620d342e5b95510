// `klp-lab livepatch selftest` and `klp-lab livepatch script`: the harness's output, the exit
// status of a failing scenario, and one-line errors for bad names and files.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { livepatchScriptCommand } from '../../cli/commands/livepatch/script';
import { livepatchSelftestCommand } from '../../cli/commands/livepatch/selftest';
import { UserError } from '../../cli/userError';

const ROOT = path.resolve(__dirname, '..', '..');
const KERNEL = path.join(ROOT, 'fixtures', 'kernel', 'kernel.elf');

function invoke(handler: unknown, args: Record<string, unknown>): { out: string; err: string; status: number | undefined } {
  let out = '', err = '';
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => { out += String(s); return true; });
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err += String(s); return true; });
  const saved = process.exitCode;
  process.exitCode = undefined;
  try {
    (handler as (a: unknown) => void)(args);
    return { out, err, status: process.exitCode as number | undefined };
  } finally {
    o.mockRestore(); e.mockRestore();
    process.exitCode = saved;
  }
}

test('selftest NAME prints the harness lines and exits 0', () => {
  const r = invoke(livepatchSelftestCommand.handler, { names: ['shadow-vars'], unwinder: 'fp' });
  expect(r.out).toBe('# test-shadow-vars.sh\nTEST: basic shadow variable API ... ok\n');
  expect(r.status).toBeUndefined();
});

test('selftest --list names the six reproduced selftests', () => {
  const r = invoke(livepatchSelftestCommand.handler, { list: true, unwinder: 'fp' });
  expect(r.out.split('\n').filter(Boolean).map((l) => l.split(' ')[0])).toEqual(['test-callbacks', 'test-livepatch', 'test-shadow-vars', 'test-state', 'test-ftrace', 'test-sysfs']);
});

test('an unknown selftest or image is a one-line user error', () => {
  expect(() => invoke(livepatchSelftestCommand.handler, { names: ['test-kprobe'], unwinder: 'fp' })).toThrow(new UserError("no selftest named 'test-kprobe' (klp-lab livepatch selftest --list)"));
  expect(() => invoke(livepatchSelftestCommand.handler, { names: [], image: '/nonexistent.elf', unwinder: 'fp' })).toThrow(UserError);
});

test('script: a failing check_result exits 1 with the diff; --dmesg prints the kernel log', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-script-'));
  const file = path.join(dir, 'mine.sh');
  fs.writeFileSync(file, 'start_test "mine"\nload_mod test_klp_callbacks_mod\ncheck_result "% modprobe test_klp_callbacks_mod\ntest_klp_callbacks_mod: hello"\n');
  const r = invoke(livepatchScriptCommand.handler, { file, image: KERNEL, unwinder: 'fp', dmesg: true });
  expect(r.status).toBe(1);
  expect(r.out).toContain('TEST: mine ... not ok\n\n--- expected\n+++ result\n@@ -1,2 +1,2 @@\n % modprobe test_klp_callbacks_mod\n-test_klp_callbacks_mod: hello\n+test_klp_callbacks_mod: test_klp_callbacks_mod_init\n');
  expect(r.out).toMatch(/\[ {4}0\.\d{6}\] ===== TEST: mine =====\n/);
  expect(r.err).toBe('ERROR: livepatch kselftest(s) failed\n');
  expect(() => invoke(livepatchScriptCommand.handler, { file: path.join(dir, 'none.sh'), image: KERNEL, unwinder: 'fp' })).toThrow(new UserError(`${path.join(dir, 'none.sh')}: No such file`));
  fs.rmSync(dir, { recursive: true });
});
