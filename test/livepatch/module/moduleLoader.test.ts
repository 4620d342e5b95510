// The module loader against GNU ld: the same object, placed at the same addresses with the
// same kernel symbols, must come out byte for byte as ld links it.

import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { execFileSync } from 'child_process';
import { ElfFile } from '../../../elf/elfFile';
import { Kallsyms, findObjectSymbol } from '../../../livepatch/module/kallsyms';
import { ModuleLoadError, loadModule } from '../../../livepatch/module/moduleLoader';
import { ObjectWriter } from '../../../elf/writer';
import { FIXTURES, haveTool } from '../../helpers/fixtures';

const kernel = ElfFile.read(path.join(FIXTURES, 'elf', 'sample.elf'));
const kallsyms = new Kallsyms(kernel);
const moduleObject = ElfFile.read(path.join(FIXTURES, 'elf', 'module.o'));
const BASE = -0x60000000; // 0xffffffffa0000000, where Linux x86-64 puts modules

const hex64 = (n: number) => BigInt.asUintN(64, BigInt(n)).toString(16);

test('relocated module image equals what ld produces at the same addresses', () => {
  expect(haveTool('ld')).toBe(true);
  const loaded = loadModule(moduleObject, 'module', BASE, { kallsyms });
  expect(loaded.relocationsApplied).toBe(10);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'klp-module-'));
  const script = [
    'SECTIONS {',
    ...loaded.sections.map((s, i) => `  .out${i} 0x${hex64(s.address)} : { *(${s.name}) }`),
    '  /DISCARD/ : { *(*) }',
    '}',
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'module.ld'), script);
  const defsyms = ['classify', 'say_hello', 'shared_value', 'greeting'].flatMap((name) => [
    '--defsym', `${name}=0x${hex64(kallsyms.lookupGlobal(name)!.address)}`,
  ]);
  const out = path.join(dir, 'module.linked');
  execFileSync('ld', ['-nostdlib', '-static', '--no-warn-rwx-segments', '-T', path.join(dir, 'module.ld'), ...defsyms,
    path.join(FIXTURES, 'elf', 'module.o'), '-o', out]);
  const linked = ElfFile.read(out);
  loaded.sections.forEach((s, i) => {
    const theirs = linked.section(`.out${i}`)!;
    expect(BigInt.asIntN(64, theirs.addr)).toBe(BigInt(s.address));
    const ours = loaded.image.subarray(s.address - BASE, s.address - BASE + s.size);
    if (theirs.type !== 8 /* NOBITS */) expect(Buffer.from(ours).equals(Buffer.from(theirs.data))).toBe(true);
  });
  fs.rmSync(dir, { recursive: true });
});

test('groups are page-aligned and in text, rodata, data order', () => {
  const loaded = loadModule(moduleObject, 'module', BASE, { kallsyms });
  const { text, rodata, data } = loaded.groups;
  expect(text.start).toBe(0);
  expect(rodata.start % 4096).toBe(0);
  expect(data.start % 4096).toBe(0);
  expect(text.end <= rodata.start && rodata.end <= data.start).toBe(true);
  // .text is the first section laid out, so a function's address is the base plus its st_value.
  const work = moduleObject.symbols().find((s) => s.name === 'module_work')!;
  expect(loaded.symbols.get('module_work')!.address).toBe(BASE + Number(work.value));
  expect(loaded.image.length % 4096).toBe(0);
});

test('an unknown symbol fails the load with the kernel message and -ENOENT', () => {
  const k = new Kallsyms(ElfFile.read(path.join(FIXTURES, 'elf', 'console.o')));
  try {
    loadModule(moduleObject, 'module', BASE, { kallsyms: k });
    throw new Error('expected a failure');
  } catch (err) {
    expect(err).toBeInstanceOf(ModuleLoadError);
    const e = err as ModuleLoadError;
    expect(e.errno).toBe(-2);
    expect(e.lines).toContain('module: Unknown symbol classify (err -2)');
  }
});

test('a 32S reference out of range is an overflow, as for a module built without -mcmodel=kernel', () => {
  expect(() => loadModule(moduleObject, 'module', 0x7fff0000000, { kallsyms })).toThrow(/overflow in relocation type 11/);
});

test('a non-zero relocation target is refused', () => {
  const text = moduleObject.section('.text')!;
  const bytes = text.data.slice();
  const first = moduleObject.relocations(moduleObject.relaFor(text)!)[0];
  bytes[Number(first.offset)] = 0x55;
  const w = new ObjectWriter(moduleObject);
  w.replaceSectionData(text.index, bytes);
  const corrupt = ElfFile.parse(w.build(), 'corrupt.o');
  expect(() => loadModule(corrupt, 'module', BASE, { kallsyms })).toThrow(/existing value is nonzero/);
});

test('sympos: unique names, Nth match, and the kernel messages otherwise', () => {
  expect(findObjectSymbol(kallsyms, null, 'classify', 0)).toHaveProperty('symbol.name', 'classify');
  expect(findObjectSymbol(kallsyms, null, 'classify', 1)).toHaveProperty('symbol.name', 'classify');
  expect(findObjectSymbol(kallsyms, null, 'classify', 2)).toEqual({
    error: "symbol position 2 for symbol 'classify' in object 'vmlinux' not found",
  });
  expect(findObjectSymbol(kallsyms, null, 'nope', 0)).toEqual({ error: "symbol 'nope' not found in symbol table" });
});
