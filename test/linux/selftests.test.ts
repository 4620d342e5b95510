// Linux 6.1's livepatch selftests, unmodified (tools/testing/selftests/livepatch/*.sh and the
// test_klp_* modules of lib/livepatch from Debian's linux-source-6.1, built out of tree against the
// kernel's headers), inside Debian's real 6.1 kernel: under QEMU, the reference, and in klp-lab
// through `klp-lab livepatch selftest --linux VMLINUX`, the command users run. The harness prints
// "TEST: ... ok" per test; both must pass all 22, with the same verdicts. The command starts from a
// booted snapshot cached under .klp-tmp (the first run boots and saves it).
import { spawnSync } from 'child_process';
import * as path from 'path';
import { linuxKernel, type LinuxFixture } from '../helpers/linux/linuxFixture';
import { labInitramfs } from '../../livepatch/linux/labInitramfs';
import { qemuLinuxConsole } from '../helpers/linux/qemuLinux';
import { selftestResults, type SelftestResult } from '../../livepatch/linux/selftestResults';
import { LINUX_SELFTEST_ORDER, selftestCommandLine } from '../../livepatch/selftest/linuxSelftests';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');
const SCRIPTS = { 'test-livepatch.sh': 3, 'test-callbacks.sh': 11, 'test-shadow-vars.sh': 1, 'test-state.sh': 4, 'test-ftrace.sh': 1, 'test-sysfs.sh': 2 };

describe('the kernel\'s livepatch selftests inside real Linux', () => {
  let fixture: LinuxFixture;
  let qemu: SelftestResult[];

  beforeAll(() => {
    const kernel = linuxKernel();
    const lab = labInitramfs(kernel.vmlinux); // fetches and builds on the first run (linux-source-6.1, headers)
    fixture = { kernel, initramfs: lab.path, userPackages: lab.packages };
    qemu = selftestResults(qemuLinuxConsole(fixture, selftestCommandLine(LINUX_SELFTEST_ORDER)).console);
  }, 900_000);

  test('under QEMU: 22 of 22 ok', () => {
    const perScript: Record<string, number> = {};
    for (const r of qemu) perScript[r.script] = (perScript[r.script] ?? 0) + 1;
    expect(perScript).toEqual(SCRIPTS);
    expect(qemu.filter((r) => r.verdict !== 'ok')).toEqual([]);
  });

  test('klp-lab livepatch selftest --linux: the same 22 verdicts, all ok, exit status 0', () => {
    const r = spawnSync(process.execPath, [CLI, 'livepatch', 'selftest', '--linux', fixture.kernel.vmlinux],
      { encoding: 'latin1', timeout: 40 * 60_000, maxBuffer: 64 << 20 });
    process.stdout.write(`klp-lab livepatch selftest --linux: ${r.stdout.trim().split('\n').pop()}\n`);
    expect(r.stderr).toBe('');
    expect(selftestResults(r.stdout)).toEqual(qemu);
    expect(r.stdout).toContain('\nselftests: 22 of 22 ok\n');
    for (const script of Object.keys(SCRIPTS)) expect(r.stdout).toContain(`# ${script}: exit status 0\n`);
    expect(r.status).toBe(0);
  }, 40 * 60_000);
});
