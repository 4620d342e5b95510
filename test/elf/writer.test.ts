// The object writer: sections added or replaced, every other byte kept, and the result still
// a valid object for binutils (readelf reads it without complaint, ld links it).

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import * as C from '../../elf/constants';
import { ElfFile } from '../../elf/elfFile';
import { ObjectWriter } from '../../elf/writer';
import { encodeRela } from '../../elf/encode';
import { writeFileAtomic } from '../../elf/atomicWrite';
import { R_X86_64 } from '../../elf/relocTypes';
import { FIXTURES, haveTool } from '../helpers/fixtures';

const samplePath = path.join(FIXTURES, 'elf', 'sample.o');
const original = ElfFile.read(samplePath);

function withTable(): Uint8Array {
  const w = new ObjectWriter(original);
  const text = original.section('.text')!;
  const textSymbol = original.symbols().find((s) => s.type === C.STT_SECTION && s.shndx === text.index)!;
  const table = w.addSection({
    name: '.klp_table', type: C.SHT_PROGBITS, flags: C.SHF_ALLOC, link: 0, info: 0, addralign: 1, entsize: 4,
    data: new Uint8Array(8),
  });
  w.addSection({
    name: '.rela.klp_table', type: C.SHT_RELA, flags: C.SHF_INFO_LINK, link: original.symtabSection()!.index,
    info: table, addralign: 8, entsize: 24,
    data: Buffer.concat([
      encodeRela(0n, R_X86_64.PC32, textSymbol.index, 0n),
      encodeRela(4n, R_X86_64.PC32, textSymbol.index, 0x10n),
    ]),
  });
  w.replaceSectionData(original.section('.data')!.index, new Uint8Array([1, 2, 3, 4]));
  return w.build();
}

test('added sections and relocations read back, replaced contents too', () => {
  const out = ElfFile.parse(withTable(), 'out.o');
  expect(out.sections.length).toBe(original.sections.length + 2);
  const table = out.section('.klp_table')!;
  expect(table.size).toBe(8);
  const relocs = out.relocations(out.section('.rela.klp_table')!);
  expect(relocs.map((r) => r.addend)).toEqual([0n, 0x10n]);
  expect(out.relaFor(table)?.name).toBe('.rela.klp_table');
  expect(Array.from(out.section('.data')!.data)).toEqual([1, 2, 3, 4]);
  // Untouched sections keep their offsets and bytes.
  for (const s of original.sections) {
    if (s.name === '.data' || s.name === '.shstrtab') continue;
    expect(out.sections[s.index].offset).toBe(s.offset);
    expect(Buffer.from(out.sections[s.index].data).equals(Buffer.from(s.data))).toBe(true);
  }
});

test('every byte of the original stays in place except e_shoff and e_shnum', () => {
  const out = withTable();
  const changed: number[] = [];
  for (let i = 0; i < original.bytes.length; i++) if (out[i] !== original.bytes[i]) changed.push(i);
  expect(changed.every((i) => (i >= 40 && i < 48) || (i >= 60 && i < 62))).toBe(true);
});

// binutils is a required peer (.ci/run installs it), so this test never skips.
test('binutils reads and links the written object', () => {
  expect(haveTool('readelf') && haveTool('ld')).toBe(true);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-writer-'));
  const obj = path.join(dir, 'out.o');
  fs.writeFileSync(obj, withTable());
  const readelf = spawnSync('readelf', ['-W', '-S', '-r', '-s', obj]);
  expect(readelf.status).toBe(0);
  expect(readelf.stderr.toString()).toBe('');
  expect(readelf.stdout.toString()).toContain("Relocation section '.rela.klp_table'");
  const linked = path.join(dir, 'linked.o');
  const ld = spawnSync('ld', ['-r', obj, '-o', linked]);
  expect(ld.stderr.toString()).toBe('');
  expect(ld.status).toBe(0);
  expect(ElfFile.read(linked).section('.klp_table')?.size).toBe(8);
  fs.rmSync(dir, { recursive: true });
});

test('an atomic write replaces the file whole, keeps its mode, and leaves no temporary file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-atomic-'));
  const target = path.join(dir, 'x.o');
  fs.writeFileSync(target, 'old', { mode: 0o640 });
  writeFileAtomic(target, Buffer.from('new contents'));
  expect(fs.readFileSync(target, 'utf8')).toBe('new contents');
  expect(fs.statSync(target).mode & 0o777).toBe(0o640);
  expect(fs.readdirSync(dir)).toEqual(['x.o']);
  expect(() => writeFileAtomic(path.join(dir, 'missing', 'y.o'), Buffer.from('z'))).toThrow();
  expect(fs.readdirSync(dir)).toEqual(['x.o']);
  fs.rmSync(dir, { recursive: true });
});
