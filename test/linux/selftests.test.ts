// Linux 6.1's livepatch selftests, unmodified (tools/testing/selftests/livepatch/*.sh and the
// test_klp_* modules of lib/livepatch from Debian's linux-source-6.1, built out of tree against the
// kernel's headers), inside Debian's real 6.1 kernel: under QEMU, the reference, and in klp-lab. The
// harness prints "TEST: ... ok" per test; both must pass all 22, with the same verdicts.
import { linuxKernel, LINUX_CMDLINE, type LinuxFixture } from '../helpers/linux/linuxFixture';
import { labInitramfs } from '../../livepatch/linux/labInitramfs';
import { qemuLinuxConsole } from '../helpers/linux/qemuLinux';
import { bootLinux, describeStop } from '../../livepatch/linux/linuxBoot';
import { selftestResults, type SelftestResult } from '../../livepatch/linux/selftestResults';

const SCRIPTS = { 'test-livepatch.sh': 3, 'test-callbacks.sh': 11, 'test-shadow-vars.sh': 1, 'test-state.sh': 4, 'test-ftrace.sh': 1, 'test-sysfs.sh': 2 };
const APPEND = `${LINUX_CMDLINE} scenario=selftests`;

describe('the kernel\'s livepatch selftests inside real Linux', () => {
  let fixture: LinuxFixture;
  let qemu: SelftestResult[];

  beforeAll(() => {
    const kernel = linuxKernel();
    const lab = labInitramfs(kernel.vmlinux); // fetches and builds on the first run (linux-source-6.1, headers)
    fixture = { kernel, initramfs: lab.path, userPackages: lab.packages };
    qemu = selftestResults(qemuLinuxConsole(fixture, APPEND).console);
  }, 900_000);

  test('under QEMU: 22 of 22 ok', () => {
    const perScript: Record<string, number> = {};
    for (const r of qemu) perScript[r.script] = (perScript[r.script] ?? 0) + 1;
    expect(perScript).toEqual(SCRIPTS);
    expect(qemu.filter((r) => r.verdict !== 'ok')).toEqual([]);
  });

  test('in klp-lab: the same 22 verdicts, all ok', () => {
    const k = bootLinux(fixture.kernel.vmlinux, fixture.initramfs, { append: APPEND, maxInsns: 12e9 });
    process.stdout.write(`selftests in klp-lab: ${describeStop(k.result)} after ${k.instructions} instructions (${(k.instructions / k.seconds / 1e6).toFixed(1)} MIPS)\n`);
    expect(k.console).toContain('init: scenario selftests done');
    expect(selftestResults(k.console)).toEqual(qemu);
  }, 40 * 60_000);
});
