// `klp-lab btf FILE [--type NAME...]`: the BTF types of a kernel image (or module) as klp-lab reads
// them, printed as `bpftool btf dump file FILE format raw` prints them. This is where klp-lab takes
// a real kernel's structure layouts from (task_struct, the klp_* types).

import type { CommandModule } from 'yargs';
import { ElfFile } from '../../elf/elfFile';
import { Btf } from '../../elf/btf';
import { formatBtf } from '../../elf/btfFormat';
import { UserError } from '../userError';

interface BtfArgs { file: string; type?: string[] }

/** The `.BTF` section of an ELF file, parsed. */
export function readBtf(file: string): Btf {
  const elf = ElfFile.read(file);
  const sec = elf.section('.BTF');
  if (sec === undefined) throw new UserError(`${file}: no .BTF section (a kernel built with CONFIG_DEBUG_INFO_BTF has one)`);
  return Btf.parse(sec.data, file);
}

export const btfCommand: CommandModule<object, BtfArgs> = {
  command: 'btf <file>',
  describe: 'print the BTF types of a kernel image or module (as bpftool btf dump format raw)',
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'ELF file with a .BTF section (vmlinux)' })
      .option('type', { type: 'string', array: true, describe: 'only the types of this name (repeatable)' }),
  handler: (args) => {
    const btf = readBtf(args.file);
    let ids: number[] | undefined;
    if (args.type !== undefined) {
      ids = [];
      for (const name of args.type) {
        const found = btf.named(name);
        if (found.length === 0) throw new UserError(`${args.file}: no BTF type named '${name}'`);
        ids.push(...found.map((t) => t.id));
      }
    }
    process.stdout.write(formatBtf(btf, ids));
  },
};
