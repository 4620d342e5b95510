/**
 * CPUID: a plausible x86_64 CPU that advertises exactly what this emulator implements (long mode,
 * NX, 1 GiB pages, SYSCALL, RDTSCP, CX8/CX16, CMOV, POPCNT, LZCNT, SSE/SSE2 moves, FSGSBASE, SMEP, SMAP,
 * invariant TSC). Values are fixed, so runs are reproducible.
 */
import type { Cpu } from '../cpu/cpu';

const VENDOR = 'GenuineIntel';
const BRAND = 'klp-lab virtual x86_64 CPU @ 1.00GHz';

function str4(s: string, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (s.charCodeAt(i + k) || 0) << (8 * k);
  return v >>> 0;
}

export function cpuidLeaf(leaf: number, sub: number, out: Uint32Array): void {
  out.fill(0);
  switch (leaf >>> 0) {
    case 0: out[0] = 0x7; out[1] = str4(VENDOR, 0); out[3] = str4(VENDOR, 4); out[2] = str4(VENDOR, 8); break;
    case 1:
      out[0] = 0x000506e3; // family 6, model 0x5e, stepping 3
      out[1] = (1 << 16) | (8 << 8); // one logical processor, 64-byte CLFLUSH line, APIC id 0
      out[2] = (1 << 13) | (1 << 23); // CX16, POPCNT
      out[3] = (1 << 0) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 13) | (1 << 15) |
        (1 << 16) | (1 << 19) | (1 << 25) | (1 << 26); // FPU PSE TSC MSR PAE CX8 PGE CMOV PAT CLFSH SSE SSE2
      break;
    case 7:
      if (sub === 0) out[1] = (1 << 0) | (1 << 7) | (1 << 9) | (1 << 20); // FSGSBASE SMEP ERMS SMAP
      break;
    case 0x80000000: out[0] = 0x80000008; break;
    case 0x80000001:
      out[2] = (1 << 0) | (1 << 5); // LAHF/SAHF in 64-bit mode, LZCNT
      out[3] = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29); // SYSCALL NX 1GB RDTSCP LM
      break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const base = (leaf - 0x80000002) * 16;
      for (let k = 0; k < 4; k++) out[k] = str4(BRAND, base + 4 * k);
      break;
    }
    case 0x80000007: out[3] = 1 << 8; break; // invariant TSC
    case 0x80000008: out[0] = 0x3028; break; // 48-bit linear, 40-bit physical addresses
    default: break;
  }
}

const scratch = new Uint32Array(4);
export function cpuid(c: Cpu): void {
  const g = c.regs;
  cpuidLeaf(g.u32[0], g.u32[2], scratch);
  g.set32(0, scratch[0]); g.set32(3, scratch[1]); g.set32(1, scratch[2]); g.set32(2, scratch[3]);
}
