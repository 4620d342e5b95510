// kallsyms read from Debian's 6.1 vmlinux (elf/kallsyms.ts) against an independent table in the same
// image: __ksymtab, where every exported symbol's address is stored as a 32-bit offset from its
// entry (struct kernel_symbol with PREL32 relocations) and its name in __ksymtab_strings.
import { ElfFile } from '../../elf/elfFile';
import { readKallsyms, KernelSymbols } from '../../elf/kallsyms';
import { realLinux } from '../helpers/realLinux';

jest.setTimeout(120_000);

test('every exported symbol in __ksymtab and __ksymtab_gpl has kallsyms\' address', () => {
  const elf = ElfFile.read(realLinux().vmlinux);
  const ks = new KernelSymbols(readKallsyms(elf));
  expect(ks.symbols.length).toBeGreaterThan(50_000);
  const strings = elf.section('__ksymtab_strings')!;
  // Names are not unique (a static symbol may share an exported one's name): any of them may match.
  const addresses = new Map<string, number[]>();
  for (const k of ks.symbols) addresses.set(k.name, [...(addresses.get(k.name) ?? []), k.address]);
  let compared = 0;
  const wrong: string[] = [];
  for (const name of ['__ksymtab', '__ksymtab_gpl']) {
    const sec = elf.section(name)!;
    const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
    const base = Number(BigInt.asIntN(64, sec.addr));
    for (let at = 0; at + 12 <= sec.data.length; at += 12) {
      const value = base + at + dv.getInt32(at, true);
      const nameVa = base + at + 4 + dv.getInt32(at + 4, true);
      const off = nameVa - Number(BigInt.asIntN(64, strings.addr));
      const end = strings.data.indexOf(0, off);
      const sym = Buffer.from(strings.data.subarray(off, end)).toString('latin1');
      const k = ks.get(sym);
      if (k === undefined || k.type === 'A') continue; // per-CPU exports are offsets, not addresses
      compared++;
      if (!addresses.get(sym)!.includes(value)) wrong.push(sym);
    }
  }
  expect(wrong).toEqual([]);
  expect(compared).toBeGreaterThan(5_000);
});

test('the symbols livepatch and the unwinders need are there, with kallsyms types', () => {
  const ks = new KernelSymbols(readKallsyms(ElfFile.read(realLinux().vmlinux)));
  expect(ks.get('init_task')?.type).toBe('D');
  expect(ks.get('current_task')?.type).toBe('A'); // a per-CPU variable: an offset into the per-CPU area
  expect(ks.get('cmdline_proc_show')?.type).toBe('t');
  expect(ks.get('klp_enable_patch')?.type).toBe('T');
  const at = ks.lookup(ks.get('cmdline_proc_show')!.address + 5)!;
  expect(at.symbol.name).toBe('cmdline_proc_show');
  expect(at.offset).toBe(5);
  expect(at.size).toBeGreaterThan(5);
});
