// `klp-lab run VMLINUX --initrd LAB-INITRAMFS -m 512 --append "... scenario=shell"` gives the real
// kernel's busybox shell on the console (the lab initramfs, fixtures/linux/lab-init): commands typed
// on klp-lab's standard input reach it through the 16550's receiver, and their output comes back.
// Piped input is fed only while the guest listens, so the run is the same every time.
import { spawnSync } from 'child_process';
import * as path from 'path';
import { linuxKernel, LINUX_CMDLINE } from '../helpers/linux/linuxFixture';
import { labInitramfs } from '../../livepatch/linux/labInitramfs';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');

test('a shell on the console: what is typed runs, and exit ends the run', () => {
  const kernel = linuxKernel();
  const r = spawnSync(process.execPath, [CLI, 'run', kernel.vmlinux, '--initrd', labInitramfs(kernel.vmlinux).path, '-m', '512',
    '--append', `${LINUX_CMDLINE} scenario=shell`], {
    // Busybox's line editor first asks the terminal where the cursor is (ESC [6n) and takes the next
    // bytes as the answer: a throwaway first line gives it something to eat.
    input: ': : : : :\necho typed $((6 * 7)) at $(cat /proc/sys/kernel/ostype)\nuname -r\nexit\n',
    encoding: 'latin1', timeout: 40 * 60_000, maxBuffer: 64 << 20,
  });
  expect(r.stdout).toContain('init: scenario shell');
  expect(r.stdout).toContain('typed 42 at Linux');
  expect(r.stdout).toContain(`\n${kernel.release}`);
  expect(r.stdout).toContain('init: scenario shell done');
  expect(r.stderr).not.toMatch(/internal error/);
}, 40 * 60_000);
