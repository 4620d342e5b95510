// tools/objtool/include/objtool/cfi.h and check.c (cfi_hash_find_or_add): the CFI state.
//
// A state is a flat Int32Array so that copying (every branch walk copies it), comparing
// (cficmp is a memcmp in C) and hashing are plain loops over numbers. Interned states
// are shared by every instruction that has the same state, as objtool's hash table does.

import { CFI_BP, CFI_CFA, CFI_NUM_REGS, CFI_RA, CFI_SP, CFI_UNDEFINED } from '../decode/insnTypes';

export const CFA_BASE = 0;
export const CFA_OFFSET = 1;
/** regs[i].base is at REGS + 2i, regs[i].offset at REGS + 2i + 1. */
export const REGS = 2;
export const VALS = REGS + 2 * CFI_NUM_REGS;
export const STACK_SIZE = VALS + 2 * CFI_NUM_REGS;
export const DRAP = STACK_SIZE + 1;
export const DRAP_REG = DRAP + 1;
export const DRAP_OFFSET = DRAP + 2;
export const TYPE = DRAP + 3;
export const BP_SCRATCH = DRAP + 4;
export const END = DRAP + 5;
export const CFI_SIZE = END + 1;

export type Cfi = Int32Array;

/** init_cfi_state(): everything undefined. */
export function initCfi(): Cfi {
  const c = new Int32Array(CFI_SIZE);
  for (let i = 0; i < CFI_NUM_REGS; i++) {
    c[REGS + 2 * i] = CFI_UNDEFINED;
    c[VALS + 2 * i] = CFI_UNDEFINED;
  }
  c[CFA_BASE] = CFI_UNDEFINED;
  c[DRAP_REG] = CFI_UNDEFINED;
  c[DRAP_OFFSET] = -1;
  return c;
}

/** arch_initial_func_cfi_state(): CFA = SP+8, return address at CFA-8. */
export const initialFuncCfi: Cfi = (() => {
  const c = initCfi();
  c[CFA_BASE] = CFI_SP;
  c[CFA_OFFSET] = 8;
  c[REGS + 2 * CFI_RA] = CFI_CFA;
  c[REGS + 2 * CFI_RA + 1] = -8;
  return c;
})();

/** set_func_state(): the function-entry CFA and registers, stack_size = 8. */
export function setFuncState(c: Cfi): void {
  c[CFA_BASE] = initialFuncCfi[CFA_BASE];
  c[CFA_OFFSET] = initialFuncCfi[CFA_OFFSET];
  for (let i = REGS; i < VALS; i++) c[i] = initialFuncCfi[i];
  c[STACK_SIZE] = initialFuncCfi[CFA_OFFSET];
}

export function cfiEqual(a: Cfi, b: Cfi): boolean {
  if (a === b) return true;
  for (let i = 0; i < CFI_SIZE; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function regBase(c: Cfi, reg: number): number {
  return c[REGS + 2 * reg];
}
export function regOffset(c: Cfi, reg: number): number {
  return c[REGS + 2 * reg + 1];
}
export const BP_BASE = REGS + 2 * CFI_BP;

/** The interning table (cfi_hash); counts mirror objtool's --stats counters. */
export class CfiTable {
  private readonly buckets = new Map<number, Cfi[]>();
  nrCfi = 0;
  nrCfiCache = 0;
  nrCfiReused = 0;

  /** cfi_hash_add(): registers a state without counting it as allocated. */
  add(c: Cfi): void {
    const k = hashCfi(c);
    const list = this.buckets.get(k);
    if (list) list.push(c);
    else this.buckets.set(k, [c]);
  }

  findOrAdd(c: Cfi): Cfi {
    const k = hashCfi(c);
    let list = this.buckets.get(k);
    if (list) {
      for (const o of list) {
        if (cfiEqual(o, c)) {
          this.nrCfiCache++;
          return o;
        }
      }
    } else {
      list = [];
      this.buckets.set(k, list);
    }
    const copy = new Int32Array(c);
    this.nrCfi++;
    list.push(copy);
    return copy;
  }
}

function hashCfi(c: Cfi): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < CFI_SIZE; i++) h = Math.imul(h ^ c[i], 16777619);
  return h;
}
