// Boots every fixture image in fixtures/boot/ and compares console output and exit status with the
// golden QEMU run recorded in test/golden/qemu/ (see MANIFEST for the QEMU version and image hashes).
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_EXIT } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';

const ROOT = path.resolve(__dirname, '..', '..');
const GOLDEN = path.join(ROOT, 'test', 'golden', 'qemu');
const images = fs.readdirSync(GOLDEN).filter((f) => f.endsWith('.txt')).map((f) => f.replace(/\.txt$/, ''));

describe('fixture images boot like QEMU', () => {
  test('golden set is not empty', () => { expect(images.length).toBeGreaterThan(0); });
  for (const name of images) {
    test(name, () => {
      const elfPath = path.join(ROOT, 'fixtures', 'boot', `${name}.elf`);
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
