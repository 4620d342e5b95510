/**
 * Guest exceptions raised by instruction semantics and the MMU. Slow paths throw one GuestFault; the
 * run loop catches it at the instruction boundary, rewinds RIP to the faulting instruction (blink
 * `oplen` habit) and delivers the vector through the IDT. Host code never sees it escape `run()`.
 */
export const DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, BR = 5, UD = 6, NM = 7, DF = 8,
  TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, MF = 16, AC = 17, MC = 18, XM = 19;

export const EXCEPTION_NAMES: Record<number, string> = {
  0: '#DE', 1: '#DB', 2: 'NMI', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD', 7: '#NM', 8: '#DF',
  10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP', 14: '#PF', 16: '#MF', 17: '#AC', 18: '#MC', 19: '#XM',
};

/** Vectors that push an error code in protected/long mode. */
export function hasErrorCode(vector: number): boolean {
  return vector === DF || vector === TS || vector === NP || vector === SS || vector === GP ||
    vector === PF || vector === AC;
}

/** Faults that are "contributory" for the double-fault rules (SDM 6.15, table 6-5). */
export function isContributory(vector: number): boolean {
  return vector === DE || vector === TS || vector === NP || vector === SS || vector === GP;
}

export class GuestFault {
  constructor(
    readonly vector: number,
    /** Error code, or -1 when the vector has none. */
    readonly errorCode: number = -1,
    /** CR2 value for #PF. */
    readonly address: number = 0,
  ) {}
  toString(): string {
    const name = EXCEPTION_NAMES[this.vector] ?? `vector ${this.vector}`;
    return this.errorCode >= 0 ? `${name}(0x${this.errorCode.toString(16)})` : name;
  }
}

export function fault(vector: number, errorCode = -1, address = 0): GuestFault {
  return new GuestFault(vector, errorCode, address);
}
