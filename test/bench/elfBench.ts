// ELF layer throughput: parse, symbols and relocations of the largest committed fixture.

import * as fs from 'fs';
import * as path from 'path';
import * as C from '../../elf/constants';
import { ElfFile } from '../../elf/elfFile';
import { FIXTURES, fixtureElfFiles } from '../helpers/fixtures';

export function run(): void {
  const sizes = fixtureElfFiles().map((f) => ({ f, size: fs.statSync(path.join(FIXTURES, f)).size }));
  const largest = sizes.sort((a, b) => b.size - a.size)[0];
  const bytes = new Uint8Array(fs.readFileSync(path.join(FIXTURES, largest.f)));
  const rounds = 20;
  let symbols = 0;
  let relocs = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) {
    const f = ElfFile.parse(bytes, largest.f);
    symbols += f.symbols().length;
    for (const s of f.sections) if (s.type === C.SHT_RELA) relocs += f.relocations(s).length;
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  console.log(`largest fixture: ${largest.f} (${(largest.size / 1024).toFixed(0)} KiB)`);
  console.log(`full read (header, sections, symbols, relocations): ${(ms / rounds).toFixed(2)} ms per file`);
  console.log(`symbols: ${((symbols / ms) * 1000).toFixed(0)}/s, relocations: ${((relocs / ms) * 1000).toFixed(0)}/s`);
}
