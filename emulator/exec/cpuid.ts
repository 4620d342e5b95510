/**
 * CPUID: the identity of QEMU 7.2's `-cpu qemu64` under TCG with `-machine pc -smp 1`, the CPU the
 * real-Linux boot is compared against (QEMU target/i386/cpu.c: the "qemu64" model and
 * cpu_x86_cpuid). The values were read from QEMU itself by fixtures/linux/cpuprobe (every leaf and
 * subleaf the probe prints is compared in the tests), so the kernel takes the same paths here as there:
 * AMD vendor code, FXSAVE without XSAVE, no SMEP/SMAP/FSGSBASE/PCID, the hypervisor bit.
 *
 * The emulator implements more than this CPU advertises (SMEP, SMAP, FSGSBASE, RDTSCP, POPCNT...):
 * fixture images that enable those without asking CPUID keep working, as they do under `-cpu max`.
 */
import type { Cpu } from '../cpu/cpu';

const VENDOR = 'AuthenticAMD';
const BRAND = 'QEMU Virtual CPU version 2.5+';
/** Highest basic leaf (qemu64: level 0xd) and highest extended leaf (xlevel 0x8000000a). */
export const CPUID_LEVEL = 0xd;
export const CPUID_XLEVEL = 0x8000000a;
/** Family 15, model 107 (0x6b), stepping 1: family 0xf, extended model 6, model 0xb. */
const SIGNATURE = 0x00060fb1;

// Leaf 1 EDX: FPU DE PSE TSC MSR PAE MCE CX8 APIC SEP MTRR PGE MCA CMOV PAT PSE36 CLFSH MMX FXSR SSE SSE2.
const FEAT_1_EDX = bits(0, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 19, 23, 24, 25, 26);
// Leaf 1 ECX: SSE3, CX16, and the hypervisor bit QEMU always adds.
const FEAT_1_ECX = bits(0, 13, 31);
// Leaf 0x80000001 EDX: the leaf 1 bits AMD mirrors (FPU..PSE36, MMX, FXSR) plus SYSCALL, NX, LM.
const FEAT_8000_0001_EDX = bits(0, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 20, 23, 24, 29);
// Leaf 0x80000001 ECX: LAHF/SAHF in 64-bit mode, SVM.
const FEAT_8000_0001_ECX = bits(0, 2);

function bits(...n: number[]): number {
  let v = 0;
  for (const b of n) v |= 1 << b;
  return v >>> 0;
}

function str4(s: string, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) v |= (s.charCodeAt(i + k) || 0) << (8 * k);
  return v >>> 0;
}

function vendor(out: Uint32Array): void {
  out[1] = str4(VENDOR, 0); out[3] = str4(VENDOR, 4); out[2] = str4(VENDOR, 8);
}

/** out = [eax, ebx, ecx, edx] for CPUID with EAX = leaf, ECX = sub. */
export function cpuidLeaf(leaf: number, sub: number, out: Uint32Array): void {
  out.fill(0);
  leaf >>>= 0;
  if (leaf >= 0x40000000 && leaf < 0x50000000) {
    // The hypervisor range: TCG's signature and nothing else.
    if (leaf === 0x40000000) { out[0] = 0x40000001; out[1] = str4('TCGT', 0); out[2] = str4('CGTC', 0); out[3] = str4('GTCG', 0); }
    return;
  }
  // Out of range: both ranges fall back to the highest basic leaf (the Intel rule QEMU follows).
  if (leaf >= 0x80000000) { if (leaf > CPUID_XLEVEL) leaf = CPUID_LEVEL; } else if (leaf > CPUID_LEVEL) leaf = CPUID_LEVEL;
  switch (leaf) {
    case 0: out[0] = CPUID_LEVEL; vendor(out); break;
    case 1:
      out[0] = SIGNATURE;
      out[1] = 8 << 8; // APIC id 0, no HTT count (one CPU), CLFLUSH line 8 quadwords
      out[2] = FEAT_1_ECX; out[3] = FEAT_1_EDX;
      break;
    case 5: out[2] = 3; break; // MONITOR leaf: EMX and IBE, no line sizes
    case 0xb:
      // x2APIC topology of one thread on one core: SMT level, then core level, then invalid levels.
      out[2] = sub & 0xff;
      if (sub === 0) { out[1] = 1; out[2] |= 1 << 8; } else if (sub === 1) { out[1] = 1; out[2] |= 2 << 8; }
      break;
    case 0x80000000: out[0] = CPUID_XLEVEL; vendor(out); break;
    case 0x80000001: out[0] = SIGNATURE; out[2] = FEAT_8000_0001_ECX; out[3] = FEAT_8000_0001_EDX; break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const base = (leaf - 0x80000002) * 16;
      for (let k = 0; k < 4; k++) out[k] = str4(BRAND, base + 4 * k);
      break;
    }
    // QEMU's legacy AMD cache and TLB descriptions: L1 TLBs 255 entries fully associative (2M/4M
    // and 4K), L1 data and code caches 64 KiB 2-way 64-byte lines; L2 TLBs 512 entries 4-way, L2
    // 512 KiB 16-way, no L3.
    case 0x80000005: out[0] = 0x01ff01ff; out[1] = 0x01ff01ff; out[2] = 0x40020140; out[3] = 0x40020140; break;
    case 0x80000006: out[1] = 0x42004200; out[2] = 0x02008140; out[3] = 0x00808140; break;
    case 0x80000008: out[0] = 0x3028; break; // 48-bit linear, 40-bit physical addresses; one core
    case 0x8000000a: out[0] = 1; out[1] = 0x10; break; // SVM revision 1, 16 ASIDs
    default: break; // leaves 2, 3, 4, 6-0xa, 0xc, 0xd, 0x80000007, 0x80000009: all zero on qemu64
  }
}

const scratch = new Uint32Array(4);
export function cpuid(c: Cpu): void {
  const g = c.regs;
  cpuidLeaf(g.u32[0], g.u32[2], scratch);
  g.set32(0, scratch[0]); g.set32(3, scratch[1]); g.set32(1, scratch[2]); g.set32(2, scratch[3]);
}
