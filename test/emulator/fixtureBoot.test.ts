// Boots every fixture image in fixtures/boot/ and compares console output and exit status with the
// golden QEMU run recorded in test/golden/qemu/ (see MANIFEST for the QEMU version and image hashes).
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_EXIT } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';

const ROOT = path.resolve(__dirname, '..', '..');
/** Golden directories and the fixture directory their images live in. */
const SETS: [string, string][] = [['qemu', 'boot'], ['qemu/kernel', 'kernel'], ['emu', 'emu']];
const images: { name: string; golden: string; elf: string }[] = [];
for (const [g, dir] of SETS) {
  const golden = path.join(ROOT, 'test', 'golden', g);
  if (!fs.existsSync(golden)) continue;
  for (const f of fs.readdirSync(golden).filter((x) => x.endsWith('.txt'))) {
    const name = f.replace(/\.txt$/, '');
    images.push({ name, golden, elf: path.join(ROOT, 'fixtures', dir, `${name}.elf`) });
  }
}

describe('fixture images boot like QEMU', () => {
  test('golden set is not empty', () => { expect(images.length).toBeGreaterThan(0); });
  for (const { name, golden: GOLDEN, elf: elfPath } of images) {
    test(name, () => {
      const m = new Machine();
      loadPvh(m, fs.readFileSync(elfPath), elfPath);
      const r = m.run(2_000_000_000);
      const expected = fs.readFileSync(path.join(GOLDEN, `${name}.txt`), 'latin1');
      const status = Number(fs.readFileSync(path.join(GOLDEN, `${name}.status`), 'utf8').trim());
      expect(m.consoleText).toBe(expected);
      expect(r.reason).toBe(STOP_EXIT);
      expect(r.exitStatus).toBe(status);
    }, 60000);
  }
});
