// Boot images whose console depends on virtual time, against QEMU's -icount: klp-lab's console and
// exit status for an image under fixtures/boot, the golden files recorded from QEMU
// (fixtures/scripts/record-qemu-icount.sh into test/golden/qemu-icount), and QEMU run again now.
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Machine } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import { REPO_ROOT, GOLDEN } from './fixtures';

export interface IcountImage {
  image: string;
  /** klp-lab's console and the guest's exit status. */
  klpConsole(): { text: string; status: number };
  golden: { text: string; status: number; name: string; sha256: string };
  /** The committed image's SHA-256. */
  imageSha256: string;
  /** qemu-system-x86_64's path, or '' when it is not installed. */
  qemu: string;
  /** QEMU -icount's console for the image, run now. */
  qemuConsole(): string;
}

export function icountImage(name: string, maxInsns: number): IcountImage {
  const image = path.join(REPO_ROOT, 'fixtures', 'boot', `${name}.elf`);
  const dir = path.join(GOLDEN, 'qemu-icount');
  const [recorded, sum] = fs.readFileSync(path.join(dir, `${name}.manifest`), 'utf8').split(' ');
  return {
    image,
    klpConsole: () => {
      const m = new Machine();
      loadPvh(m, fs.readFileSync(image), image);
      const r = m.run(maxInsns);
      return { text: m.consoleText, status: r.exitStatus };
    },
    golden: {
      text: fs.readFileSync(path.join(dir, `${name}.txt`), 'latin1'),
      status: Number(fs.readFileSync(path.join(dir, `${name}.status`), 'utf8')),
      name: recorded, sha256: sum,
    },
    imageSha256: crypto.createHash('sha256').update(fs.readFileSync(image)).digest('hex'),
    qemu: spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' }).stdout.trim(),
    qemuConsole(): string {
      const r = spawnSync(this.qemu, ['-machine', 'pc', '-accel', 'tcg', '-cpu', 'qemu64', '-m', '128', '-smp', '1', '-display', 'none',
        '-no-reboot', '-monitor', 'none', '-serial', 'stdio', '-icount', 'shift=0,sleep=off',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-kernel', image], { timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] });
      return r.stdout.toString('latin1');
    },
  };
}
