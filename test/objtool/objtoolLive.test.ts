// Differential test against the real Linux 6.1 objtool, when it is present (OBJTOOL=path, or
// the binary unpacked from Debian's linux-kbuild-6.1 in /tmp/kbuild, see record-golden.sh).
// Every corpus object (the big-* bench objects excepted) runs under random option sets from
// the actions and options this port implements; stderr, exit status, whether the file
// changed, and the ORC dump must all be identical. The seed is printed and can be fixed with
// OBJTOOL_SEED.

import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runObjtool } from '../../objtool/objtool';
import { FIXTURES } from '../helpers/fixtures';
import { linuxObjtool61 } from '../helpers/linuxObjtool';
import { seededRandom } from '../helpers/random';

const REAL = linuxObjtool61();
const OBJ = path.join(FIXTURES, 'objtool', 'obj');
const KOBJ = path.join(FIXTURES, 'kernel', 'objects');
/** [directory, object]: the objtool corpus (big-* bench objects excepted) and the fixture kernel's objects. */
const objects: [string, string][] = [
  ...fs.readdirSync(OBJ).filter((f) => f.endsWith('.o') && !f.startsWith('big-')).sort().map((f) => [OBJ, f] as [string, string]),
  ...(fs.existsSync(KOBJ) ? fs.readdirSync(KOBJ).filter((f) => f.endsWith('.o')).sort().map((f) => [KOBJ, f] as [string, string]) : []),
];
const ACTIONS = ['--stackval', '--orc'];
const OPTIONS = ['--no-unreachable', '--backtrace', '--sec-address', '--module', '--link', '--dry-run', '--stats', '--uaccess', '--sls'];

if (REAL) {
  const seed = Number(process.env.OBJTOOL_SEED ?? Date.now() % 1000000);
  const rnd = seededRandom(seed);
  const pick = (xs: string[]): string[] => xs.filter(() => rnd() < 0.5);
  const cases = objects.map(([dir, obj]) => {
    let actions = pick(ACTIONS);
    if (actions.length === 0) actions = [ACTIONS[Math.floor(rnd() * ACTIONS.length)]];
    return [obj, [...actions, ...pick(OPTIONS)], dir] as const;
  });
  let work: string;
  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-objtool-live-'));
    console.log(`objtool live differential test: seed ${seed} (OBJTOOL_SEED=${seed} repeats it)`);
  });
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

  test.each(cases)('%s %j: same as the real objtool', (obj, args, dir) => {
    const mine = path.join(work, 'mine');
    const theirs = path.join(work, 'theirs');
    fs.mkdirSync(mine, { recursive: true });
    fs.mkdirSync(theirs, { recursive: true });
    fs.copyFileSync(path.join(dir, obj), path.join(mine, obj));
    fs.copyFileSync(path.join(dir, obj), path.join(theirs, obj));
    const r = runObjtool([...args, obj], {}, mine);
    const t = spawnSync(REAL, [...args, obj], { cwd: theirs, encoding: 'latin1' });
    expect(r.stderr.split('\n')).toEqual(t.stderr.split('\n'));
    expect(r.stdout.split('\n')).toEqual(t.stdout.split('\n'));
    expect(r.status).toBe(t.status);
    const orig = fs.readFileSync(path.join(dir, obj));
    expect(fs.readFileSync(path.join(mine, obj)).equals(orig)).toBe(fs.readFileSync(path.join(theirs, obj)).equals(orig));
    const d = runObjtool(['--dump=orc', obj], {}, mine);
    const td = spawnSync(REAL, ['--dump=orc', obj], { cwd: theirs, encoding: 'latin1' });
    expect(d.stdout.split('\n')).toEqual(td.stdout.split('\n'));
  });
} else {
  test('the real objtool is not installed: only the recorded goldens are compared', () => {
    expect(REAL).toBeNull();
  });
}
