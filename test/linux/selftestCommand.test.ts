// `klp-lab livepatch selftest --linux VMLINUX`'s arguments: what it lists, and bad input as one
// line with exit status 1, before any boot (the long run itself is in selftests.test.ts).
import { spawnSync } from 'child_process';
import * as path from 'path';
import { linuxKernel } from '../helpers/linux/linuxFixture';
import { FIXTURES } from '../helpers/fixtures';
import { chooseLinuxSelftests, LINUX_SELFTEST_ORDER, selftestCommandLine } from '../../livepatch/selftest/linuxSelftests';

const CLI = path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');

function klpLab(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'livepatch', 'selftest', ...args], { encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: { status: number | null; stdout: string; stderr: string }, text: RegExp): void {
  expect(r.status).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(/^klp-lab: [^\n]+\n$/);
  expect(r.stderr).toMatch(text);
  expect(r.stderr).not.toMatch(/internal error/);
}

describe('klp-lab livepatch selftest --linux: arguments', () => {
  const vmlinux = linuxKernel().vmlinux;

  test('--list names the six scripts of the kernel\'s sources, in the order /init runs them', () => {
    const r = klpLab('--linux', vmlinux, '--list');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(LINUX_SELFTEST_ORDER.map((s) => s.replace(/\.sh$/, '')));
  }, 600_000);

  test('an image that is not a Debian 6.1 cloud vmlinux is refused in one line', () => {
    expectOneLineError(klpLab('--linux', path.join(FIXTURES, 'kernel', 'kernel.elf')), /not a Debian Linux 6\.1 cloud kernel/);
    expectOneLineError(klpLab('--linux', path.join(FIXTURES, 'linux', 'lab-init')), /not an ELF file/);
    expectOneLineError(klpLab('--linux', path.join(FIXTURES, 'no-such-vmlinux')), /No such file/);
  });

  test('an unknown script is refused in one line, naming the ones there are', () => {
    expectOneLineError(klpLab('--linux', vmlinux, 'test-nothing'), /no selftest named 'test-nothing'.*test-livepatch\.sh/);
  }, 600_000);

  test('fixture-lab options do not mix with --linux', () => {
    expectOneLineError(klpLab('--linux', vmlinux, '--image', vmlinux), /--image/);
    expectOneLineError(klpLab('--linux', vmlinux, '--unwinder', 'orc'), /--unwinder/);
  });

  test('scripts by any of their names, each once, in the order given; the default list needs no selftests= word', () => {
    expect(chooseLinuxSelftests(['state', 'test-ftrace.sh', 'test-state'], LINUX_SELFTEST_ORDER)).toEqual(['test-state.sh', 'test-ftrace.sh']);
    expect(chooseLinuxSelftests([], LINUX_SELFTEST_ORDER)).toEqual(LINUX_SELFTEST_ORDER);
    expect(selftestCommandLine(LINUX_SELFTEST_ORDER)).toMatch(/ scenario=selftests$/);
    expect(selftestCommandLine(['test-state.sh', 'test-ftrace.sh'])).toMatch(/ scenario=selftests selftests=test-state\.sh,test-ftrace\.sh$/);
  });
});
