// What elfy gets right and where it stops (the reasons elf/ reads fields itself).

import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { elfyParse } from '../../elf/elfyView';
import { FIXTURES } from '../helpers/fixtures';

const sampleObject = ElfFile.read(path.join(FIXTURES, 'elf', 'sample.o'));
const sampleImage = ElfFile.read(path.join(FIXTURES, 'elf', 'sample.elf'));

test('elfy and klp-lab agree on section names, offsets, sizes, links and infos', () => {
  for (const file of [sampleObject, sampleImage]) {
    const theirs = elfyParse(file.bytes).body.sections;
    expect(theirs.map((s) => s.name)).toEqual(file.sections.map((s) => s.name));
    expect(theirs.map((s) => [s.off, s.size, s.link, s.info])).toEqual(
      file.sections.map((s) => [s.offset, s.size, s.link, s.info]),
    );
  }
});

test('elfy reads sh_addralign and sh_entsize of ELF64 headers from the wrong offsets', () => {
  const theirs = elfyParse(sampleObject.bytes).body.sections;
  const symtab = sampleObject.section('.symtab')!;
  expect(symtab.entsize).toBe(24);
  expect(symtab.addralign).toBe(8);
  const elfySymtab = theirs[symtab.index];
  // elfy takes bytes 46..53 and 54..61: a mix of sh_info's high half and the real fields.
  expect(elfySymtab.entsize).not.toBe(24);
  expect(elfySymtab.addralign).not.toBe(8);
});

test('elfy loses the low bits of kernel addresses; klp-lab keeps them exact as bigint', () => {
  const elfyEntry = elfyParse(sampleImage.bytes).entry;
  expect(sampleImage.header.entry).toBe(0xffffffff81000000n + (sampleImage.header.entry & 0xfffn));
  expect(sampleImage.header.entry & 0xfffn).not.toBe(0n);
  expect(BigInt(elfyEntry)).not.toBe(sampleImage.header.entry);
});
