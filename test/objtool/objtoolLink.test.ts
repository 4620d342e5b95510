// Objects written by `objtool --orc` still link: `ld -r` accepts every corpus object after
// ORC generation, and the linked result keeps the tables (dumped as the same entries).
// Runs when GNU ld is installed (it is part of the toolchain that builds the fixtures).

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runObjtool } from '../../objtool/objtool';
import { FIXTURES, GOLDEN, haveTool } from '../helpers/fixtures';

const OBJ = path.join(FIXTURES, 'objtool', 'obj');
/** Objects the real objtool writes ORC into (a fatal decode-phase error means no ORC). */
const objects = fs.readdirSync(OBJ).filter((f) => f.endsWith('.o') && !f.startsWith('big-')).sort().filter((f) => {
  const g = JSON.parse(fs.readFileSync(path.join(GOLDEN, 'objtool', f.replace(/\.o$/, '.json')), 'utf8'));
  return g.orc['.orc_unwind'] !== undefined;
});

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-objtool-ld-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('most corpus objects get ORC tables', () => {
  expect(objects.length).toBeGreaterThanOrEqual(50);
});

if (haveTool('ld')) {
  test.each(objects)('%s links with ld -r after --orc', (obj) => {
    fs.copyFileSync(path.join(OBJ, obj), path.join(work, obj));
    runObjtool(['--orc', obj], {}, work);
    const before = runObjtool(['--dump=orc', obj], {}, work).stdout;
    expect(before).not.toBe('');
    const linked = `linked-${obj}`;
    execFileSync('ld', ['-r', '-o', linked, obj], { cwd: work, stdio: 'pipe' });
    const after = runObjtool(['--dump=orc', linked], {}, work).stdout;
    expect(after).toBe(before);
  });
} else {
  test('GNU ld is not installed: the link check cannot run here', () => {
    expect(haveTool('ld')).toBe(false);
  });
}
