// `klp-lab run` against QEMU's -machine pc: the cases of test/golden/pc/CASES (memory sizes, initrd,
// command line, the platform devices as fixtures/boot/pcprobe.c probes them, the reset paths and
// console input through a pipe), each compared byte for byte with the console QEMU gave
// (fixtures/scripts/record-pc.sh), plus the one-line errors of the boot options.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { FIXTURES, REPO_ROOT } from '../helpers/fixtures';
import { RUN_STATUS_RESET, RUN_STATUS_TRIPLE } from '../../cli/commands/run';

jest.setTimeout(180_000);

const MAIN = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');
const GOLDEN = path.join(REPO_ROOT, 'test', 'golden', 'pc');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-run-pc-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface PcCase { name: string; image: string; memory: string; initrd: number; append: string; stdin: string }

function cases(): PcCase[] {
  return fs.readFileSync(path.join(GOLDEN, 'CASES'), 'utf8').split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((l) => {
      const [name, image, memory, initrd, append, stdin] = l.split('|').map((f) => f.trim());
      return { name, image, memory, initrd: Number(initrd), append, stdin };
    });
}

/** The first `n` bytes of `yes klp-lab-initrd`, as the recording script builds the initrd. */
export function patternInitrd(n: number): Buffer {
  const line = Buffer.from('klp-lab-initrd\n');
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = line[i % line.length];
  return out;
}

function klp(args: string[], input?: Buffer): { out: string; err: string; status: number | null } {
  const r = spawnSync('node', [MAIN, ...args], { input: input ?? Buffer.alloc(0), maxBuffer: 1 << 26 });
  return { out: r.stdout.toString('latin1'), err: r.stderr.toString(), status: r.status };
}

describe.each(cases())('QEMU pc case $name', (c) => {
  test('same console as QEMU; exit status maps QEMU\'s', () => {
    const args = ['run', path.join(FIXTURES, 'boot', c.image), '-m', c.memory, '--append', c.append];
    if (c.initrd > 0) {
      const file = path.join(dir, `${c.name}.initrd`);
      fs.writeFileSync(file, patternInitrd(c.initrd));
      args.push('--initrd', file);
    }
    const r = klp(args, c.stdin === '-' ? undefined : fs.readFileSync(path.join(GOLDEN, c.stdin)));
    expect(r.out).toBe(fs.readFileSync(path.join(GOLDEN, `${c.name}.txt`), 'latin1'));
    const qemuStatus = Number(fs.readFileSync(path.join(GOLDEN, `${c.name}.status`), 'utf8').trim());
    if (c.name === 'reset-triple') {
      // QEMU -no-reboot exits 0; klp-lab keeps 4 for any triple fault, with its report.
      expect(qemuStatus).toBe(0);
      expect(r.status).toBe(RUN_STATUS_TRIPLE);
      expect(r.err).toMatch(/triple fault/);
    } else if (c.name.startsWith('reset-')) {
      expect(qemuStatus).toBe(0);
      expect(r.status).toBe(RUN_STATUS_RESET);
      expect(r.err).toMatch(/^klp-lab: guest reset \(.+\)\n$/);
    } else {
      expect(r.status).toBe(qemuStatus);
      expect(r.err).toBe('');
    }
  });
});

describe('boot option errors are one line, status 1', () => {
  const hello = path.join(FIXTURES, 'boot', 'hello.elf');
  const oneLine = (args: string[], pattern: RegExp): void => {
    const r = klp(['run', ...args]);
    expect(r.status).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(pattern);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  };

  test('missing initrd', () => oneLine([hello, '--initrd', path.join(dir, 'nope.img')], /nope\.img: No such file \(initrd\)/));
  test('initrd that is a directory', () => oneLine([hello, '--initrd', dir], /is a directory \(initrd\)/));
  test('initrd larger than memory', () => {
    const big = path.join(dir, 'big.img');
    fs.writeFileSync(big, Buffer.alloc(3 << 20));
    oneLine([hello, '-m', '4', '--initrd', big], /initrd too large for 4 MiB of RAM/);
  });
  test('memory sizes', () => {
    oneLine([hello, '-m', 'lots'], /--memory: bad size 'lots'/);
    oneLine([hello, '-m', '1'], /--memory: 1 is too small/);
    oneLine([hello, '-m', '4G'], /--memory: 4G is too large/);
    oneLine([hello, '-m', '1.3M'], /not a whole number of MiB/);
  });
  test('memory too small for the image', () => {
    // hello.elf with its first PT_LOAD moved to 3 MiB (p_paddr of program header 0).
    const elf = Buffer.from(fs.readFileSync(hello));
    const phoff = Number(elf.readBigUInt64LE(0x20));
    elf.writeBigUInt64LE(0x300000n, phoff + 24);
    const moved = path.join(dir, 'moved.elf');
    fs.writeFileSync(moved, elf);
    oneLine([moved, '-m', '2'], /segment at 0x300000 .* is outside the 2 MiB of RAM/);
  });
  test('bad rtc base', () => oneLine([hello, '--rtc-base', '2024-02-30'], /--rtc-base: bad date '2024-02-30'/));
  test('unreadable kernel', () => oneLine([path.join(dir, 'missing.elf')], /missing\.elf: No such file/));
});
