// The fixture patch modules and their ORC tables, for the tests that compare them with Linux 6.1's
// objtool and unwind through them: the committed objects, a copy with the tables removed (the
// compiler's output, before objtool), and the tables of an object in the recorded golden's form.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { FIXTURES, GOLDEN, haveTool } from '../../helpers/fixtures';

export const ORC_SECTIONS = ['.orc_unwind', '.orc_unwind_ip', '.rela.orc_unwind_ip'];
export const MODULE_ORC_GOLDEN = path.join(GOLDEN, 'module-orc');

/** Every committed patch module, relative to fixtures/livepatch/ (selftests/ included), sorted. */
export function fixtureModules(): string[] {
  const dir = path.join(FIXTURES, 'livepatch');
  const list = (sub: string) => fs.readdirSync(path.join(dir, sub)).filter((f) => f.endsWith('.o')).map((f) => path.join(sub, f));
  return [...list('.'), ...list('selftests')].map((f) => path.normalize(f)).sort();
}

/** The golden file's name for a module: fixtures/scripts/record-module-orc.sh's. */
export function goldenName(module: string): string {
  return module.replace(/\//g, '-').replace(/\.o$/, '.json');
}

/** `src` without its ORC sections, written to `dest` by binutils' objcopy. */
export function withoutOrc(src: string, dest: string): void {
  if (!haveTool('objcopy')) throw new Error('objcopy (binutils) is needed to remove a module\'s ORC tables');
  execFileSync('objcopy', [...ORC_SECTIONS.map((s) => `--remove-section=${s}`), src, dest]);
}

export { type OrcTables, orcTablesOf } from '../../helpers/orcTables';
