// `klp-lab demo` (what `npm start` runs): a short tour of what klp-lab can do today, on the
// committed fixtures. It grows with the project.

import * as path from 'path';
import type { CommandModule } from 'yargs';
import * as C from '../../elf/constants';
import { ElfFile } from '../../elf/elfFile';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'fixtures');

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

export const demoCommand: CommandModule<object, object> = {
  command: 'demo',
  describe: 'a short tour of klp-lab on the committed fixtures (what `npm start` runs)',
  handler: () => {
    const imagePath = path.join(FIXTURES, 'elf', 'sample.elf');
    const image = ElfFile.read(imagePath);
    const lines: string[] = [];
    lines.push('klp-lab: a laboratory for kernel live patching on x86_64', '');
    lines.push(`1. Reading a kernel-style ELF image: ${path.relative(process.cwd(), imagePath)}`);
    lines.push(`   entry point ${hex(image.header.entry)} (a 64-bit kernel address, kept exact)`);
    const pvh = image.notes().find((n) => n.name === 'Xen' && n.type === C.XEN_ELFNOTE_PHYS32_ENTRY);
    if (pvh) lines.push(`   PVH entry note: 32-bit physical entry ${hex(Buffer.from(pvh.desc).readUInt32LE(0))}`);
    for (const s of image.sections.filter((s) => s.flags & C.SHF_ALLOC)) {
      lines.push(`   section ${s.name.padEnd(8)} at ${hex(s.addr)}, ${s.size} bytes`);
    }
    const functions = image.symbols().filter((s) => s.type === C.STT_FUNC);
    lines.push(`   ${functions.length} functions: ${functions.map((f) => `${f.name} (${f.size} bytes)`).join(', ')}`);
    lines.push('');
    lines.push('Try:');
    lines.push('   klp-lab readelf -h -S -s -r -n fixtures/elf/sample.o   (compare with GNU readelf -W)');
    lines.push('   klp-lab --help                                           (every command)');
    process.stdout.write(lines.join('\n') + '\n');
  },
};
