// The ELF model itself: symbols, relocations and notes read from the fixtures, checked
// against facts about how they were built.

import * as path from 'path';
import * as C from '../../elf/constants';
import { ElfFile } from '../../elf/elfFile';
import { R_X86_64, relocTypeName } from '../../elf/relocTypes';
import { FIXTURES } from '../helpers/fixtures';

const object = ElfFile.read(path.join(FIXTURES, 'elf', 'sample.o'));
const image = ElfFile.read(path.join(FIXTURES, 'elf', 'sample.elf'));

test('symbols carry name, value, size, type, binding, visibility and section', () => {
  const classify = object.symbols().find((s) => s.name === 'classify')!;
  expect(classify.type).toBe(C.STT_FUNC);
  expect(classify.bind).toBe(C.STB_GLOBAL);
  expect(classify.visibility).toBe(C.STV_DEFAULT);
  expect(object.sections[classify.shndx].name).toBe('.text');
  expect(classify.size).toBeGreaterThan(0);
  const consoleWrite = object.symbols().find((s) => s.name === 'console_write')!;
  expect(consoleWrite.shndx).toBe(C.SHN_UNDEF);
  const counter = object.symbols().find((s) => s.name === 'counter')!;
  expect(counter.bind).toBe(C.STB_LOCAL);
  expect(counter.type).toBe(C.STT_OBJECT);
});

test('linked symbols keep exact 64-bit kernel addresses', () => {
  const start = image.symbols().find((s) => s.name === '_start')!;
  expect(start.value).toBe(image.header.entry);
  expect(start.value > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
  const text = image.section('.text')!;
  expect(text.addr).toBe(0xffffffff81000000n);
});

test('relocations carry offset, type with its x86-64 name, symbol and signed addend', () => {
  const rela = object.relaFor(object.section('.text')!)!;
  expect(rela.name).toBe('.rela.text');
  const relocs = object.relocations(rela);
  const symbols = object.symbols();
  const call = relocs.find((r) => symbols[r.symbolIndex].name === 'console_write')!;
  expect(relocTypeName(call.type)).toBe('R_X86_64_PLT32');
  expect(call.addend).toBe(-4n);
  const table = object.relocations(object.relaFor(object.section('.rodata')!)!);
  expect(table.every((r) => r.type === R_X86_64['64'])).toBe(true);
  expect(table.some((r) => r.addend > 0n)).toBe(true);
  expect(relocTypeName(999)).toBeUndefined();
});

test('notes: the PVH entry note is found with its physical entry point', () => {
  const note = image.notes().find((n) => n.name === 'Xen' && n.type === C.XEN_ELFNOTE_PHYS32_ENTRY)!;
  expect(note).toBeDefined();
  expect(Buffer.from(note.desc).readUInt32LE(0)).toBe(0x100000);
});
