// The fixture kernel's frame-pointer objects (fixtures/kernel/objects, built by fixtures/kernel)
// against Linux 6.1 objtool's recorded output on them (test/golden/objtool-kernel, made by
// fixtures/scripts/record-objtool.sh: `objtool --stackval --dry-run fixtures/kernel/objects/X.o`
// run from the repository root). These include entry code with unwind hints, a context
// switch, 32-bit boot code (pvh.o) and the deliberately broken functions (broken.o).

import * as fs from 'fs';
import * as path from 'path';
import { runObjtool } from '../../objtool/objtool';
import { REPO_ROOT } from '../helpers/fixtures';

const DIR = 'fixtures/kernel/objects';
const GOLD = path.join(REPO_ROOT, 'test', 'golden', 'objtool-kernel');
const objects = fs.existsSync(path.join(REPO_ROOT, DIR))
  ? fs.readdirSync(path.join(REPO_ROOT, DIR)).filter((f) => f.endsWith('.o') && fs.existsSync(path.join(GOLD, `${f}.txt`))).sort()
  : [];

test('the fixture kernel objects and their goldens are present', () => {
  expect(objects.length).toBeGreaterThanOrEqual(20);
});

test.each(objects)('%s: objtool --stackval --dry-run matches Linux 6.1', (obj) => {
  const rel = `${DIR}/${obj}`;
  const before = fs.readFileSync(path.join(REPO_ROOT, rel));
  const r = runObjtool(['--stackval', '--dry-run', rel], {}, REPO_ROOT);
  const golden = fs.readFileSync(path.join(GOLD, `${obj}.txt`), 'utf8');
  const status = Number(fs.readFileSync(path.join(GOLD, `${obj}.status`), 'utf8').trim());
  expect((r.stderr + r.stdout).split('\n')).toEqual(golden.split('\n'));
  expect(r.status).toBe(status);
  expect(fs.readFileSync(path.join(REPO_ROOT, rel)).equals(before)).toBe(true);
});
