// Scenario scripts (klp-lab livepatch script): the selftests' shell lines run against the
// fixture kernel in serve mode. The harness logs and waits as functions.sh does; the bare tool
// lines do what the helpers wrap; failures are the kernel's and the tools' messages; bad input
// is one line naming the script's line.

import * as fs from 'fs';
import * as path from 'path';
import { runScenario, ScenarioError, type ScenarioResult } from '../../../livepatch/script/scriptRunner';
import { parseScript } from '../../../livepatch/script/shellSyntax';
import { unifiedDiff } from '../../../livepatch/script/checkResult';
import { FIXTURES } from '../../helpers/fixtures';

const IMAGE = path.join(FIXTURES, 'kernel', 'kernel.elf');
const MODULES = [path.join(FIXTURES, 'livepatch', 'selftests')];

function run(source: string): { r: ScenarioResult; out: string; err: string } {
  let out = '';
  let err = '';
  const r = runScenario({ source, name: 'scenario.sh', image: IMAGE, moduleDirs: MODULES, output: { out: (s) => (out += s), err: (s) => (err += s) } });
  return { r, out, err };
}

const BASIC_LOG = `% modprobe test_klp_livepatch
livepatch: enabling patch 'test_klp_livepatch'
livepatch: 'test_klp_livepatch': initializing patching transition
livepatch: 'test_klp_livepatch': starting patching transition
livepatch: 'test_klp_livepatch': completing patching transition
livepatch: 'test_klp_livepatch': patching complete
% echo 0 > /sys/kernel/livepatch/test_klp_livepatch/enabled
livepatch: 'test_klp_livepatch': initializing unpatching transition
livepatch: 'test_klp_livepatch': starting unpatching transition
livepatch: 'test_klp_livepatch': completing unpatching transition
livepatch: 'test_klp_livepatch': unpatching complete
% rmmod test_klp_livepatch`;

test('the bare tool lines log and wait as the helpers they stand for', () => {
  const { r, out } = run(`
M=test_klp_livepatch
start_test "bare lines"
modprobe $M
cat /proc/cmdline
cat /sys/kernel/livepatch/$M/transition /sys/kernel/livepatch/$M/enabled /sys/module/$M/refcnt
echo 0 > /sys/kernel/livepatch/$M/enabled
rmmod $M
cat /proc/cmdline
[[ -e /sys/kernel/livepatch/$M ]] || echo "patch gone"
check_result "${BASIC_LOG}"
`);
  expect(out).toBe('TEST: bare lines ... test_klp_livepatch: this has been live patched\n0\n1\n1\nselftest\npatch gone\nok\n');
  expect(r.status).toBe(0);
});

test('a log that differs from the expected block is "not ok" with a unified diff, and the script dies', () => {
  const { r, out, err } = run(`
start_test "wrong expectation"
load_lp test_klp_livepatch
check_result "% modprobe test_klp_livepatch
livepatch: enabling patch 'test_klp_livepatch'
livepatch: 'test_klp_livepatch': patching complete"
echo "not reached"
`);
  expect(r.status).toBe(1);
  expect(r.tests).toEqual([expect.objectContaining({ name: 'wrong expectation', ok: false })]);
  expect(out).toContain('TEST: wrong expectation ... not ok\n\n--- expected\n+++ result\n@@ -1,3 +1,6 @@\n');
  expect(out).toContain("+livepatch: 'test_klp_livepatch': initializing patching transition\n");
  expect(out).not.toContain('not reached');
  expect(err).toBe('ERROR: livepatch kselftest(s) failed\n');
  expect(r.lab.core.log.messages()).toContain('ERROR: livepatch kselftest(s) failed');
});

test('rmmod of a module livepatch still holds fails with rmmod\'s message; a failed insert logs modprobe\'s', () => {
  const { r, err } = run(`
modprobe test_klp_livepatch
rmmod test_klp_livepatch || echo "rmmod failed with $?"
modprobe test_klp_callbacks_demo pre_patch_ret=-19 || true
echo 0 > /sys/kernel/livepatch/test_klp_livepatch/enabled
rmmod test_klp_livepatch
`);
  expect(r.status).toBe(0);
  expect(err).toContain('rmmod: ERROR: Module test_klp_livepatch is in use\n');
  expect(err).toContain("modprobe: ERROR: could not insert 'test_klp_callbacks_demo': No such device\n");
  expect(r.lab.core.log.messages()).toContain("modprobe: ERROR: could not insert 'test_klp_callbacks_demo': No such device");
  expect(r.lab.modules.has('test_klp_livepatch')).toBe(false);
  expect(r.lab.modules.has('test_klp_callbacks_demo')).toBe(false);
});

test('module parameters: modprobe sets them, sysfs reads and writes them as the kernel prints them', () => {
  const { r, out, err } = run(`
modprobe test_klp_callbacks_busy block_transition=N
cat /sys/module/test_klp_callbacks_busy/parameters/block_transition
modprobe test_klp_callbacks_demo pre_patch_ret=0 nosuch=1
cat /sys/module/test_klp_callbacks_demo/parameters/pre_patch_ret
echo -19 > /sys/module/test_klp_callbacks_demo/parameters/pre_patch_ret
cat /sys/module/test_klp_callbacks_demo/parameters/pre_patch_ret
echo bogus > /sys/module/test_klp_callbacks_demo/parameters/pre_patch_ret || echo refused
`);
  expect(out).toBe('N\n0\n-19\nrefused\n');
  expect(err).toBe('bash: echo: write error: Invalid argument\n');
  expect(r.lab.core.log.messages()).toContain("test_klp_callbacks_demo: unknown parameter 'nosuch' ignored");
  expect(r.lab.readParam('test_klp_callbacks_demo', 'pre_patch_ret')).toBe('-19');
});

test('bad input is one line with the script line: a missing module, an unknown command, a syntax error', () => {
  expect(() => run('\n\nload_lp test_klp_nothere')).toThrow(new ScenarioError(`scenario.sh:3: modprobe: FATAL: Module test_klp_nothere not found in directory ${MODULES[0]}`));
  expect(() => run('true\nfrobnicate now')).toThrow(/^scenario\.sh:2: frobnicate: command not found/);
  expect(() => run('if true; then\necho x\n')).toThrow(/^scenario\.sh:\d+: syntax error: 'fi' expected/);
  expect(() => run('cat /proc/cmdline | grep x')).toThrow(/^scenario\.sh:1: syntax error: '\|' is not supported/);
});

test('the shell: quoting across lines, $(...), ${VAR}, if/else, && and ||', () => {
  const cmds = parseScript('A="x\ny" ; echo "${A}" \'$A\' $(echo hi) && false || echo or\nif false; then echo a; else echo b; fi\n');
  expect(cmds.map((c) => c.type)).toEqual(['simple', 'andor', 'if']);
  const { out } = run('A="two words"\necho "[$A]" [$A]\nif [[ "$(echo hi)" == hi ]]; then echo yes; else echo no; fi\nfalse && echo never || echo or');
  expect(out).toBe('[two words] [two words]\nyes\nor\n');
});

test('unifiedDiff prints hunks as diff -u does', () => {
  expect(unifiedDiff(['a', 'b', 'c'], ['a', 'c', 'd'], 'expected', 'result')).toBe('--- expected\n+++ result\n@@ -1,3 +1,3 @@\n a\n-b\n c\n+d');
});

test("the README's example scenario passes", () => {
  const file = path.join(__dirname, '..', '..', '..', 'livepatch', 'script', 'examples', 'module-goes-first.sh');
  let out = '';
  const r = runScenario({ source: fs.readFileSync(file, 'utf8'), name: 'module-goes-first.sh', image: IMAGE, moduleDirs: MODULES, output: { out: (s) => (out += s), err: (s) => (out += s) } });
  expect(out).toBe('TEST: module goes first ... ok\n');
  expect(r.status).toBe(0);
});

test('module memory comes back with rmmod: 300 loads and unloads fit in the 4 MiB module area', () => {
  const { r, err } = run(Array.from({ length: 300 }, () => 'modprobe test_klp_callbacks_mod\nrmmod test_klp_callbacks_mod\n').join(''));
  expect(err).toBe('');
  expect(r.status).toBe(0);
  expect(r.lab.modules.size).toBe(0);
  expect(r.lab.consoleText.split('test_klp_callbacks_mod_exit').length - 1).toBe(300);
});

test('force: a transition stalled by the busy module completes at the next retry after echo 1 > force', () => {
  const { r, out } = run(`
load_mod test_klp_callbacks_busy block_transition=Y
load_lp_nowait test_klp_callbacks_demo
cat /sys/kernel/livepatch/test_klp_callbacks_demo/transition
echo 1 > /sys/kernel/livepatch/test_klp_callbacks_demo/force
loop_until 'grep -q ^0$ /sys/kernel/livepatch/test_klp_callbacks_demo/transition' || die "not forced"
disable_lp test_klp_callbacks_demo
unload_lp test_klp_callbacks_demo
unload_mod test_klp_callbacks_busy
`);
  expect(r.status).toBe(0);
  expect(out).toBe('1\n');
  const log = r.lab.core.log.messages();
  const forced = log.indexOf('livepatch: forcing remaining tasks to the patched state');
  expect(forced).toBeGreaterThan(log.indexOf('% echo 1 > /sys/kernel/livepatch/test_klp_callbacks_demo/force'));
  expect(log.indexOf("livepatch: 'test_klp_callbacks_demo': patching complete")).toBeGreaterThan(forced);
  expect(log.slice(-2)).toEqual(['test_klp_callbacks_busy: busymod_work_func exit', 'test_klp_callbacks_busy: test_klp_callbacks_busy_exit']);
});
