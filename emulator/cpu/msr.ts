/**
 * Model-specific registers, as QEMU 7.2's TCG implements them (target/i386/tcg/sysemu/misc_helper.c,
 * helper_rdmsr/helper_wrmsr) for `-cpu qemu64 -machine pc`, with the values the machine has when a
 * PVH kernel is entered (after QEMU's reset and SeaBIOS, which programs the MTRRs). Recorded from
 * QEMU by fixtures/linux/cpuprobe and compared in the tests.
 *
 * QEMU's rule for an MSR it does not know: RDMSR reads 0 and WRMSR is ignored; no #GP (the kernel's
 * rdmsr_safe/wrmsr_safe probes therefore succeed, and print accordingly). The one #GP QEMU raises is
 * for reserved bits of IA32_PKRS. The MSR_TSC number is kept for readers: QEMU's TCG has no case for
 * it, so it reads 0 like any unknown MSR (RDTSC is the way to the TSC).
 */
export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_SMI_COUNT = 0x34;
export const MSR_UCODE_REV = 0x8b;
export const MSR_MTRRCAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176;
export const MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17a, MSR_MCG_CTL = 0x17b;
export const MSR_PERF_STATUS = 0x198;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_MTRR_PHYS_BASE0 = 0x200;
export const MSR_MTRR_FIX64K_00000 = 0x250, MSR_MTRR_FIX16K_80000 = 0x258, MSR_MTRR_FIX16K_A0000 = 0x259;
export const MSR_MTRR_FIX4K_C0000 = 0x268;
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_MC0_CTL = 0x400;
export const MSR_PKRS = 0x6e1;
export const MSR_BNDCFGS = 0xd90;
export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SFMASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;
export const MSR_VM_HSAVE_PA = 0xc0010117;

/** qemu64's machine-check banks (MCG_CAP bits 7:0) and MCG_CAP itself: 10 banks, MCG_CTL_P, MCG_SER_P. */
const MCE_BANKS = 10;
const MCG_CAP_VALUE = 0x0100010a;

/** How a stored MSR takes a write. */
const RW = 0, READ_ONLY = 1, ZERO_OR_ONES = 2, LOW32 = 3;

interface StoredMsr { msr: number; lo: number; hi: number; write: number }

/**
 * The MSRs this machine only stores (their value changes nothing else here), with their values at
 * PVH entry. MTRRs: SeaBIOS makes RAM write-back (default type 6 with fixed ranges 6 below 640K, 5
 * from 0xC0000, enabled) and the 2 GiB below 4 GiB uncachable through variable range 0.
 */
function storedMsrTable(): StoredMsr[] {
  const t: StoredMsr[] = [];
  const add = (msr: number, lo: number, hi: number, write: number): void => { t.push({ msr, lo: lo >>> 0, hi: hi >>> 0, write }); };
  add(MSR_SMI_COUNT, 0xb, 0, READ_ONLY); // the SMIs SeaBIOS caused
  add(MSR_UCODE_REV, 0x01000065, 0, READ_ONLY);
  add(MSR_MTRRCAP, 0x508, 0, READ_ONLY); // 8 variable ranges, fixed ranges, write-combining
  add(MSR_SYSENTER_CS, 0, 0, RW);
  add(MSR_SYSENTER_ESP, 0, 0, RW);
  add(MSR_SYSENTER_EIP, 0, 0, RW);
  add(MSR_MCG_CAP, MCG_CAP_VALUE, 0, READ_ONLY);
  add(MSR_MCG_STATUS, 0, 0, RW);
  add(MSR_MCG_CTL, 0xffffffff, 0xffffffff, ZERO_OR_ONES);
  add(MSR_PERF_STATUS, 1000, 4 << 8, READ_ONLY); // QEMU's constant: 1000 per tick, multiplier 4
  add(MSR_MISC_ENABLE, 1, 0, RW); // fast strings
  for (let i = 0; i < 16; i++) {
    const lo = i === 0 ? 0x80000000 : i === 1 ? 0x80000800 : 0, hi = i === 1 ? 0xff : 0;
    add(MSR_MTRR_PHYS_BASE0 + i, lo, hi, RW);
  }
  add(MSR_MTRR_FIX64K_00000, 0x06060606, 0x06060606, RW);
  add(MSR_MTRR_FIX16K_80000, 0x06060606, 0x06060606, RW);
  add(MSR_MTRR_FIX16K_A0000, 0, 0, RW);
  for (let i = 0; i < 8; i++) add(MSR_MTRR_FIX4K_C0000 + i, 0x05050505, 0x05050505, RW);
  add(MSR_PAT, 0x00070406, 0x00070406, RW); // the architectural reset value
  add(MSR_MTRR_DEF_TYPE, 0xc06, 0, RW);
  for (let i = 0; i < 4 * MCE_BANKS; i++) {
    // MCi_CTL starts all ones and takes only 0 or all ones; STATUS, ADDR, MISC take anything.
    if ((i & 3) === 0) add(MSR_MC0_CTL + i, 0xffffffff, 0xffffffff, ZERO_OR_ONES);
    else add(MSR_MC0_CTL + i, 0, 0, RW);
  }
  add(MSR_PKRS, 0, 0, LOW32);
  add(MSR_BNDCFGS, 0, 0, RW);
  add(MSR_VM_HSAVE_PA, 0, 0, RW);
  return t;
}

const TABLE = storedMsrTable();
const SLOT = new Map<number, number>(TABLE.map((e, i) => [e.msr, i]));

/** Outcome of a write to a stored MSR. */
export const MSR_WRITE_DONE = 0, MSR_WRITE_GP = 1, MSR_NOT_STORED = 2;

/** The stored MSRs' values: [lo, hi] pairs in table order (part of the CPU context). */
export class MsrStore {
  readonly values = new Uint32Array(TABLE.length * 2);

  constructor() { this.reset(); }

  reset(): void {
    TABLE.forEach((e, i) => { this.values[2 * i] = e.lo; this.values[2 * i + 1] = e.hi; });
  }

  /** Reads into out[0..1]; false if the MSR is not one of the stored ones. */
  read(msr: number, out: Uint32Array): boolean {
    const i = SLOT.get(msr);
    if (i === undefined) return false;
    out[0] = this.values[2 * i]; out[1] = this.values[2 * i + 1];
    return true;
  }

  write(msr: number, lo: number, hi: number): number {
    const i = SLOT.get(msr);
    if (i === undefined) return MSR_NOT_STORED;
    lo >>>= 0; hi >>>= 0;
    switch (TABLE[i].write) {
      case READ_ONLY: return MSR_WRITE_DONE;
      case ZERO_OR_ONES:
        if (!((lo === 0 && hi === 0) || (lo === 0xffffffff && hi === 0xffffffff))) return MSR_WRITE_DONE;
        break;
      case LOW32: if (hi !== 0) return MSR_WRITE_GP; break;
      default: break;
    }
    this.values[2 * i] = lo; this.values[2 * i + 1] = hi;
    return MSR_WRITE_DONE;
  }
}
