// The CPU identity klp-lab gives the real-Linux boot: every CPUID leaf/subleaf and MSR value that
// fixtures/linux/cpuprobe prints must be what QEMU 7.2's `-cpu qemu64 -machine pc` gave it
// (test/golden/linux/cpuprobe-qemu64.txt, recorded by fixtures/linux/cpuprobe/record.sh).
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_EXIT } from '../../emulator/machine';
import { loadPvh } from '../../emulator/loader/pvh';
import { cpuidLeaf } from '../../emulator/exec/cpuid';
import { FIXTURES, GOLDEN } from '../helpers/fixtures';

const PROBE = path.join(FIXTURES, 'linux', 'cpuprobe', 'cpuprobe.elf');
const golden = fs.readFileSync(path.join(GOLDEN, 'linux', 'cpuprobe-qemu64.txt'), 'latin1');

function probeInKlpLab(): string {
  const m = new Machine({ memory: 512 << 20 });
  loadPvh(m, fs.readFileSync(PROBE), PROBE);
  const r = m.run(200_000_000);
  expect(r.reason).toBe(STOP_EXIT);
  return m.consoleText;
}

describe('CPU identity of -cpu qemu64', () => {
  const klp = probeInKlpLab();
  const lines = (s: string, kind: string): string[] => s.split(/\r?\n/).filter((l) => l.startsWith(kind));

  test('the golden file covers the leaves and MSRs Linux reads', () => {
    const g = golden.split(/\r?\n/);
    expect(g[g.length - 2]).toBe('cpuprobe: done');
    expect(lines(golden, 'cpuid ').length).toBeGreaterThan(150);
    expect(lines(golden, 'rdmsr ').length).toBeGreaterThan(150);
    expect(golden).toContain('cpuid 00000000.0 0000000d 68747541 444d4163 69746e65'); // AuthenticAMD
  });

  test('every CPUID leaf and subleaf matches QEMU', () => {
    expect(lines(klp, 'cpuid ')).toEqual(lines(golden, 'cpuid '));
  });

  test('every MSR read matches QEMU (unknown MSRs read 0, no #GP)', () => {
    expect(lines(klp, 'rdmsr ')).toEqual(lines(golden, 'rdmsr '));
  });

  test('every MSR write behaves as in QEMU (read-only, 0-or-all-ones, #GP on PKRS high bits)', () => {
    expect(lines(klp, 'wrmsr ')).toEqual(lines(golden, 'wrmsr '));
  });

  test('the whole console is the same', () => {
    expect(klp).toBe(golden);
  });

  test('the brand string is QEMU\'s', () => {
    const out = new Uint32Array(4);
    let brand = '';
    for (let leaf = 0x80000002; leaf <= 0x80000004; leaf++) {
      cpuidLeaf(leaf, 0, out);
      for (const v of out) for (let k = 0; k < 4; k++) brand += String.fromCharCode((v >>> (8 * k)) & 0xff);
    }
    expect(brand.replace(/\0+$/, '')).toBe('QEMU Virtual CPU version 2.5+');
  });
});
