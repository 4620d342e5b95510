// The fixture kernel's ORC build (fixtures/kernel/kernel-nofp.elf): its tables read back as
// Linux 6.1's `objtool --dump=orc` prints them, and unwind_init()'s lookup table computed here
// equals the .orc_lookup the build filled in (fixtures/scripts/sort-orc.py).

import { execFileSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { KernelImage } from '../../../livepatch/unwind/kernelImage';
import { linuxObjtool61 } from '../../helpers/linuxObjtool';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const IMAGE = path.join(ROOT, 'fixtures', 'kernel', 'kernel-nofp.elf');
const GOLDEN = path.join(__dirname, 'golden');

/** objtool's dump of the image: the golden when it was recorded from these bytes, else a live run. */
function objtoolDump(bytes: Buffer): string[] {
  const hash = crypto.createHash('sha256').update(bytes).digest('hex');
  const recorded = fs.readFileSync(path.join(GOLDEN, 'kernel-nofp.orc.sha256'), 'utf8').trim();
  if (hash === recorded) return fs.readFileSync(path.join(GOLDEN, 'kernel-nofp.orc.dump'), 'utf8').trimEnd().split('\n');
  const tool = linuxObjtool61();
  if (!tool) throw new Error('kernel-nofp.elf changed since the golden was recorded: run test/livepatch/unwind/golden/make-orc-golden.sh');
  return execFileSync(tool, ['--dump=orc', IMAGE], { encoding: 'utf8' }).trimEnd().split('\n');
}

describe('fixture kernel ORC tables', () => {
  const bytes = fs.readFileSync(IMAGE);
  const file = ElfFile.parse(new Uint8Array(bytes), 'kernel-nofp.elf');
  const img = KernelImage.fromElf(file);

  test('every entry as Linux 6.1 objtool --dump=orc prints it', () => {
    expect(img.orc).not.toBeNull();
    expect(img.orc!.init).toBe(true);
    expect(img.orc!.dump()).toEqual(objtoolDump(bytes));
  });

  test('orc_lookup[] computed by unwind_init() equals the table in the image', () => {
    const sec = file.section('.orc_lookup')!;
    const data = file.sectionData(sec);
    const mine = img.orc!.lookupTable()!;
    expect(mine).not.toBeNull();
    expect(data.length).toBe(mine.length * 4);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const theirs = Array.from({ length: mine.length }, (_, i) => dv.getUint32(i * 4, true));
    expect(Array.from(mine)).toEqual(theirs);
  });

  test('kernel text is [_stext, _etext): user code and the 32-bit boot stub are not kernel text', () => {
    const u = img.symbol('__user_start')!;
    expect(img.text.contains(u)).toBe(false);
    expect(img.text.contains(img.symbol('_text')!)).toBe(false);
    expect(img.text.contains(img.symbol('ret_from_fork')!)).toBe(true);
    expect(img.retFromFork).toBe(img.symbol('ret_from_fork'));
  });
});
