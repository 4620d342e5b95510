// arch/x86/include/asm/ptrace.h, switch_to.h: the two stack layouts both unwinders read, struct
// pt_regs (x86_64) and struct inactive_task_frame, as byte offsets. Offsets are ABI facts and
// keep the kernel's names; the fixture kernel uses the same layout (fixtures/include/ptregs.h).

export const PTREGS_R15 = 0;
export const PTREGS_R14 = 8;
export const PTREGS_R13 = 16;
export const PTREGS_R12 = 24;
export const PTREGS_BP = 32;
export const PTREGS_BX = 40;
export const PTREGS_R11 = 48;
export const PTREGS_R10 = 56;
export const PTREGS_R9 = 64;
export const PTREGS_R8 = 72;
export const PTREGS_AX = 80;
export const PTREGS_CX = 88;
export const PTREGS_DX = 96;
export const PTREGS_SI = 104;
export const PTREGS_DI = 112;
export const PTREGS_ORIG_AX = 120;
export const PTREGS_IP = 128;
export const PTREGS_CS = 136;
export const PTREGS_FLAGS = 144;
export const PTREGS_SP = 152;
export const PTREGS_SS = 160;
/** sizeof(struct pt_regs) */
export const PTREGS_SIZE = 168;
/** Number of 64-bit words in pt_regs (the length of a host-side register snapshot). */
export const PTREGS_WORDS = PTREGS_SIZE / 8;

/** IRET_FRAME_OFFSET = offsetof(struct pt_regs, ip) (asm/unwind.h) */
export const IRET_FRAME_OFFSET = PTREGS_IP;
/** IRET_FRAME_SIZE = sizeof(pt_regs) - IRET_FRAME_OFFSET: ip, cs, flags, sp, ss */
export const IRET_FRAME_SIZE = PTREGS_SIZE - IRET_FRAME_OFFSET;

/** user_mode(regs): the saved CS has RPL 3. `cs` is a small number, so `& 3` is exact. */
export function userModeCs(cs: number): boolean {
  return (cs & 3) === 3;
}

/**
 * struct inactive_task_frame (x86_64), from thread.sp upwards: r15, r14, r13, r12, bx, bp,
 * ret_addr. __switch_to_asm pushes rbp, rbx, r12-r15 and saves rsp in thread.sp; the return
 * address into the caller (__schedule, or ret_from_fork for a new task) lies above them.
 */
export interface InactiveTaskFrameLayout {
  /** offset of the saved rbp from thread.sp */
  bp: number;
  /** offset of the return address from thread.sp */
  retAddr: number;
  /** sizeof(struct inactive_task_frame) */
  size: number;
}

export const LINUX_INACTIVE_TASK_FRAME: InactiveTaskFrameLayout = { bp: 40, retAddr: 48, size: 56 };

/** A host-side copy of a register state in pt_regs order (index = offset / 8). */
export type RegsSnapshot = Float64Array;

/** Builds a pt_regs-ordered snapshot from named values (missing registers are 0). */
export function makeRegsSnapshot(values: {
  ip: number;
  sp: number;
  bp: number;
  cs: number;
  [reg: string]: number;
}): RegsSnapshot {
  const s = new Float64Array(PTREGS_WORDS);
  const offsets: Record<string, number> = {
    r15: PTREGS_R15, r14: PTREGS_R14, r13: PTREGS_R13, r12: PTREGS_R12, bp: PTREGS_BP,
    bx: PTREGS_BX, r11: PTREGS_R11, r10: PTREGS_R10, r9: PTREGS_R9, r8: PTREGS_R8,
    ax: PTREGS_AX, cx: PTREGS_CX, dx: PTREGS_DX, si: PTREGS_SI, di: PTREGS_DI,
    orig_ax: PTREGS_ORIG_AX, ip: PTREGS_IP, cs: PTREGS_CS, flags: PTREGS_FLAGS,
    sp: PTREGS_SP, ss: PTREGS_SS,
  };
  for (const [name, v] of Object.entries(values)) {
    const off = offsets[name];
    if (off === undefined) throw new Error(`makeRegsSnapshot: unknown register ${name}`);
    s[off / 8] = v;
  }
  return s;
}
