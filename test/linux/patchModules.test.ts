// The patch modules for the real kernel (fixtures/linux/livepatch/), built out of tree against
// Debian's headers for the same ABI as the fetched kernel (fixtures/linux/livepatch/build.sh, run
// by .ci/run): they carry the kernel's vermagic, the livepatch ones say so in .modinfo, and
// klp-lab's ELF layer reads each .ko exactly as GNU readelf does.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../elf/elfFile';
import { formatReadelf, type ReadelfPart } from '../../elf/readelfFormat';
import { realLinux } from '../helpers/realLinux';
import { debianRelease } from '../../livepatch/linux/debianKernel';
import { labPatchModules } from '../../livepatch/linux/linuxModules';

const linuxPatchModules = (vmlinux: string): string => labPatchModules(debianRelease(vmlinux).abi);

jest.setTimeout(300_000);

const PATCHES = ['klp_lab_cmdline', 'klp_lab_sleeper', 'klp_lab_hog', 'klp_lab_wait'];

function modinfo(elf: ElfFile): Map<string, string> {
  const sec = elf.section('.modinfo');
  expect(sec).toBeDefined();
  const out = new Map<string, string>();
  for (const kv of Buffer.from(sec!.data).toString('latin1').split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0) out.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  return out;
}

test('each module carries the kernel\'s vermagic; the four patches are livepatch modules', () => {
  const { vmlinux } = realLinux();
  const dir = linuxPatchModules(vmlinux);
  const kernelRodata = Buffer.from(ElfFile.read(vmlinux).section('.rodata')!.data).toString('latin1');
  for (const name of ['klp_lab_workload', ...PATCHES]) {
    const info = modinfo(ElfFile.read(path.join(dir, `${name}.ko`)));
    const vermagic = info.get('vermagic')!;
    expect(vermagic).toMatch(/^6\.1\.0-\d+-cloud-amd64 SMP preempt mod_unload modversions $/);
    expect(kernelRodata).toContain(`${vermagic}\0`); // the kernel's own VERMAGIC_STRING
    expect(info.get('name')).toBe(name);
    expect(info.get('livepatch')).toBe(PATCHES.includes(name) ? 'Y' : undefined);
  }
});

test('klp-lab reads every module as GNU readelf -W does (headers, sections, symbols, relocations)', () => {
  const dir = linuxPatchModules(realLinux().vmlinux);
  const parts: Array<[string, ReadelfPart]> = [['h', 'file-header'], ['S', 'section-headers'], ['s', 'symbols'], ['r', 'relocs']];
  for (const name of ['klp_lab_workload', ...PATCHES]) {
    const file = path.join(dir, `${name}.ko`);
    const elf = ElfFile.read(file);
    for (const [opt, part] of parts) {
      const gnu = execFileSync('readelf', ['-W', `-${opt}`, file], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 64 << 20 }).toString('latin1');
      expect({ name, opt, text: formatReadelf(elf, new Set([part])) }).toEqual({ name, opt, text: gnu });
    }
  }
  expect(fs.readdirSync(dir).filter((f) => f.endsWith('.ko')).sort()).toEqual(['klp_lab_workload', ...PATCHES].map((n) => `${n}.ko`).sort());
});
