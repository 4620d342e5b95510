// The fixture patch modules carry ORC tables (fixtures/livepatch/Makefile runs klp-lab's objtool
// with kbuild's module options, --orc --module), and those tables are the bytes Linux 6.1's
// objtool writes for the same object: recorded by fixtures/scripts/record-module-orc.sh in
// test/golden/module-orc/, and compared live when the C tool is on this machine.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runObjtool } from '../../../objtool/objtool';
import { FIXTURES } from '../../helpers/fixtures';
import { linuxObjtool61 } from '../../helpers/linuxObjtool';
import { MODULE_ORC_GOLDEN, type OrcTables, fixtureModules, goldenName, orcTablesOf, withoutOrc } from './moduleOrcFixtures';

interface Golden { object: string; objtool: string[]; status: number; stdout: string; stderr: string; orc: OrcTables }

const modules = fixtureModules();
const REAL = linuxObjtool61();
let work: string;
beforeAll(() => { work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-module-orc-')); });
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

test('every committed patch module has a golden, and nothing else does', () => {
  expect(modules.length).toBeGreaterThanOrEqual(22);
  expect(fs.readdirSync(MODULE_ORC_GOLDEN).sort()).toEqual(modules.map(goldenName).sort());
});

describe.each(modules)('%s', (module) => {
  const committed = path.join(FIXTURES, 'livepatch', module);
  const golden: Golden = JSON.parse(fs.readFileSync(path.join(MODULE_ORC_GOLDEN, goldenName(module)), 'utf8'));

  test('its ORC tables are the ones Linux 6.1 objtool --orc --module writes', () => {
    expect(golden.objtool).toEqual(['--orc', '--module']);
    expect([golden.status, golden.stdout, golden.stderr]).toEqual([0, '', '']);
    const tables = orcTablesOf(committed);
    // a table entry per state change, with a terminator per section: never empty
    expect(tables['.orc_unwind']!.length).toBeGreaterThan(0);
    expect(tables['.orc_unwind']!.length / 12).toBe(tables['.orc_unwind_ip']!.length / 8); // 6 and 4 bytes per entry
    expect(tables).toEqual(golden.orc);
  });

  test('klp-lab\'s objtool makes them again from the compiler\'s object', () => {
    const obj = path.join(work, path.basename(module));
    withoutOrc(committed, obj);
    expect(orcTablesOf(obj)).toEqual({});
    const r = runObjtool(['--orc', '--module', path.basename(obj)], {}, work);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
    expect(orcTablesOf(obj)).toEqual(golden.orc);
    if (REAL !== null) {
      const theirs = path.join(work, `c-${path.basename(module)}`);
      withoutOrc(committed, theirs);
      const t = spawnSync(REAL, ['--orc', '--module', path.basename(theirs)], { cwd: work, encoding: 'latin1' });
      expect([t.status, t.stdout, t.stderr]).toEqual([0, '', '']);
      expect(orcTablesOf(theirs)).toEqual(golden.orc);
    }
    fs.rmSync(obj);
  });
});
