// Objects written by `objtool --orc` still link: `ld -r` accepts every corpus object after
// ORC generation, and the linked result keeps the tables (dumped as the same entries).
// Runs when GNU ld is installed (it is part of the toolchain that builds the fixtures).

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runObjtool } from '../../objtool/objtool';
import { FIXTURES, haveTool } from '../helpers/fixtures';

const OBJ = path.join(FIXTURES, 'objtool', 'obj');
const objects = fs.readdirSync(OBJ).filter((f) => f.endsWith('.o') && !f.startsWith('big-')).sort();

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-objtool-ld-'));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

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
