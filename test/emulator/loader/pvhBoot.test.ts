// The PVH boot data against QEMU's: the memory map and initrd address for each memory size in
// test/golden/pc (what fixtures/boot/pcprobe.c printed under QEMU -machine pc), and the start info,
// module list and SMBIOS bytes that loadPvh leaves in guest memory.
import * as fs from 'fs';
import * as path from 'path';
import { Machine } from '../../../emulator/machine';
import { loadPvh, pcE820, initrdAddress, START_INFO_PADDR } from '../../../emulator/loader/pvh';
import { SMBIOS_ENTRY_PADDR, SMBIOS_TABLE_PADDR } from '../../../emulator/loader/smbios';
import { FIXTURES, GOLDEN } from '../../helpers/fixtures';

const PC = path.join(GOLDEN, 'pc');
const cases = fs.readFileSync(path.join(PC, 'CASES'), 'utf8').split('\n')
  .filter((l) => l.startsWith('pcprobe-'))
  .map((l) => l.split('|').map((f) => f.trim()))
  .map(([name, , mem, initrd]) => ({ name, bytes: /G$/.test(mem) ? parseInt(mem, 10) * 2 ** 30 : parseInt(mem, 10) * 2 ** 20, initrd: Number(initrd) }));

const hex = (v: number): string => '0x' + v.toString(16).padStart(16, '0');

test.each(cases)('$name: e820 map and initrd address as QEMU gave them', ({ name, bytes, initrd }) => {
  const golden = fs.readFileSync(path.join(PC, `${name}.txt`), 'latin1');
  const memmap = golden.split('\n').filter((l) => l.startsWith('memmap: '));
  expect(pcE820(bytes).map(([a, s, t]) => `memmap: [mem ${hex(a)}-${hex(a + s - 1)}] type ${t}`)).toEqual(memmap);
  const mod = /module 0: paddr 0x([0-9a-f]+) size (\d+)/.exec(golden);
  if (initrd > 0) {
    expect(mod).not.toBeNull();
    expect(Number(mod![2])).toBe(initrd);
    expect(initrdAddress(bytes, initrd)).toBe(parseInt(mod![1], 16));
  } else expect(mod).toBeNull();
});

test('loadPvh: start info, module list, command line and SMBIOS in guest memory', () => {
  const m = new Machine({ memory: 64 << 20 });
  const initrd = Buffer.from('initrd bytes');
  loadPvh(m, fs.readFileSync(path.join(FIXTURES, 'boot', 'hello.elf')), 'hello.elf', { cmdline: 'a=b c', initrd: { bytes: initrd, name: 'x' } });
  const dv = new DataView(m.physRead(START_INFO_PADDR, 0x38).buffer);
  expect(dv.getUint32(0, true)).toBe(0x336ec578);
  expect(dv.getUint32(12, true)).toBe(1);                               // nr_modules
  const modlist = Number(dv.getBigUint64(16, true));
  const mod = new DataView(m.physRead(modlist, 32).buffer);
  const paddr = Number(mod.getBigUint64(0, true));
  expect(paddr).toBe(initrdAddress(64 << 20, initrd.length));
  expect(Number(mod.getBigUint64(8, true))).toBe(initrd.length);
  expect(Buffer.from(m.physRead(paddr, initrd.length)).toString()).toBe('initrd bytes');
  const cmdline = Number(dv.getBigUint64(24, true));
  expect(Buffer.from(m.physRead(cmdline, 6)).toString('latin1')).toBe('a=b c\0');
  expect(dv.getUint32(48, true)).toBe(7);                               // memmap entries
  expect(Buffer.from(m.physRead(SMBIOS_ENTRY_PADDR, 4)).toString()).toBe('_SM_');
  expect(m.physRead(SMBIOS_ENTRY_PADDR + 0x18, 4)).toEqual(new Uint8Array([0x10, 0x5a, 0x0f, 0x00])); // table address
  expect(m.physRead(SMBIOS_TABLE_PADDR, 1)[0]).toBe(0);                 // type 0 first
  const sum = Array.from(m.physRead(SMBIOS_ENTRY_PADDR, 0x1f)).reduce((a, b) => a + b, 0);
  expect(sum & 0xff).toBe(0);
});
