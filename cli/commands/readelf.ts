// `klp-lab readelf -h|-S|-s|-r|-n FILE...`: what the ELF layer reads, laid out like GNU readelf -W.

import type { CommandModule } from 'yargs';
import { ElfFile } from '../../elf/elfFile';
import { formatReadelf, type ReadelfPart } from '../../elf/readelfFormat';

interface ReadelfArgs {
  files: string[];
  'file-header'?: boolean;
  'section-headers'?: boolean;
  syms?: boolean;
  relocs?: boolean;
  notes?: boolean;
  wide?: boolean;
}

export const readelfCommand: CommandModule<object, ReadelfArgs> = {
  command: 'readelf <files..>',
  describe: 'display ELF headers, sections, symbols, relocations and notes (as GNU readelf -W)',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'ELF files' })
      .option('file-header', { alias: 'h', type: 'boolean', describe: 'the ELF file header' })
      .option('section-headers', { alias: ['S', 'sections'], type: 'boolean', describe: "the sections' headers" })
      .option('syms', { alias: ['s', 'symbols'], type: 'boolean', describe: 'the symbol table' })
      .option('relocs', { alias: 'r', type: 'boolean', describe: 'the relocations' })
      .option('notes', { alias: 'n', type: 'boolean', describe: 'the notes' })
      .option('wide', { alias: 'W', type: 'boolean', describe: 'accepted for compatibility: output is always wide' })
      .check((a) => {
        if (!a['file-header'] && !a['section-headers'] && !a.syms && !a.relocs && !a.notes) {
          throw new Error('readelf: choose at least one of -h, -S, -s, -r, -n');
        }
        return true;
      }),
  handler: (args) => {
    const parts = new Set<ReadelfPart>();
    if (args['file-header']) parts.add('file-header');
    if (args['section-headers']) parts.add('section-headers');
    if (args.syms) parts.add('symbols');
    if (args.relocs) parts.add('relocs');
    if (args.notes) parts.add('notes');
    // Parse every file before printing anything, so a bad file produces no partial output.
    const files = args.files.map((name) => ElfFile.read(name));
    let out = '';
    for (const f of files) {
      if (files.length > 1) out += `\nFile: ${f.name}\n`;
      out += formatReadelf(f, parts);
    }
    process.stdout.write(out);
  },
};
