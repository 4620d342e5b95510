// The fixture patch modules and their ORC tables, for the tests that compare them with Linux 6.1's
// objtool and unwind through them: the committed objects, a copy with the tables removed (the
// compiler's output, before objtool), and the tables of an object in the recorded golden's form.

import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as C from '../../../elf/constants';
import { ElfFile } from '../../../elf/elfFile';
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

export interface OrcTables {
  '.orc_unwind'?: string;
  '.orc_unwind_ip'?: string;
  /** [offset, type, symbol (a section symbol by its section's name), addend] */
  '.rela.orc_unwind_ip'?: [number, number, string, number][];
}

/** An object's ORC sections: raw bytes in hex, relocations by symbol name. */
export function orcTablesOf(file: string): OrcTables {
  const elf = ElfFile.read(file);
  const out: OrcTables = {};
  const orc = elf.section('.orc_unwind');
  const ip = elf.section('.orc_unwind_ip');
  const rela = elf.section('.rela.orc_unwind_ip');
  if (orc) out['.orc_unwind'] = Buffer.from(orc.data).toString('hex');
  if (ip) out['.orc_unwind_ip'] = Buffer.from(ip.data).toString('hex');
  if (rela) {
    const syms = elf.symbols();
    out['.rela.orc_unwind_ip'] = elf.relocations(rela).map((r) => {
      const s = syms[r.symbolIndex];
      return [Number(r.offset), r.type, s.type === C.STT_SECTION ? elf.sections[s.shndx].name : s.name, Number(r.addend)];
    });
  }
  return out;
}
