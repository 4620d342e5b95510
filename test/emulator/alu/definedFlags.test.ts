// The undefined-flag masks of the differential tests come from iced-x86 (aluCases.ts). This pins them
// against the "Flags Affected" sections of the Intel SDM, read by hand, so that a change in iced or in
// the encodings used to query it cannot silently widen what the tests mask.
import { CF, PF, AF, ZF, SF, OF, STATUS_FLAGS } from '../../../emulator/cpu/flags';
import { OPS, icedUndefined, defined } from './aluCases';

// SDM "Flags Affected": flags that are undefined for the representative (CL / register) form.
const SDM_UNDEFINED: Record<string, number> = {
  add: 0, adc: 0, sub: 0, sbb: 0, cmp: 0, inc: 0, dec: 0, neg: 0, not: 0, bswap: 0, popcnt: 0,
  and: AF, or: AF, xor: AF, test: AF,
  shl: OF | AF, shr: OF | AF, sar: OF | AF, // "OF ... undefined for multi-bit shifts", "AF undefined" (count != 0)
  rol: OF, ror: OF, rcl: OF, rcr: OF, // "OF ... undefined for multi-bit rotates"
  shld: OF | AF, shrd: OF | AF,
  mul1: SF | ZF | AF | PF, imul1: SF | ZF | AF | PF, imul2: SF | ZF | AF | PF, imul3: SF | ZF | AF | PF,
  div: STATUS_FLAGS, idiv: STATUS_FLAGS,
  bt: OF | SF | AF | PF, bts: OF | SF | AF | PF, btr: OF | SF | AF | PF, btc: OF | SF | AF | PF,
  bsf: CF | OF | SF | AF | PF, bsr: CF | OF | SF | AF | PF,
  tzcnt: OF | SF | AF | PF, lzcnt: OF | SF | AF | PF,
  setcc: 0, xadd: 0, cmpxchg: 0,
};

test('iced rflagsUndefined matches the SDM for every op', () => {
  for (const op of Object.keys(OPS)) expect([op, icedUndefined(OPS[op].enc)]).toEqual([op, SDM_UNDEFINED[op]]);
});

test('count-dependent refinements', () => {
  // Count 0: nothing changes, so nothing is undefined.
  for (const op of ['shl', 'shr', 'sar', 'rol', 'rcr']) expect(defined(op, 4, 0x20, 0).flags).toBe(STATUS_FLAGS);
  expect(defined('shld', 8, 0, 0x40).flags).toBe(STATUS_FLAGS);
  // Count 1: OF defined; AF still undefined for shifts.
  expect(defined('shl', 4, 1, 0).flags).toBe(STATUS_FLAGS & ~AF);
  expect(defined('rol', 4, 1, 0).flags).toBe(STATUS_FLAGS);
  expect(defined('shrd', 4, 0, 1).flags).toBe(STATUS_FLAGS & ~AF);
  // SHL/SHR with count >= width: CF undefined too; SAR keeps CF (= the sign).
  expect(defined('shl', 1, 8, 0).flags).toBe(STATUS_FLAGS & ~(AF | OF | CF));
  expect(defined('shr', 2, 31, 0).flags).toBe(STATUS_FLAGS & ~(AF | OF | CF));
  expect(defined('sar', 1, 9, 0).flags).toBe(STATUS_FLAGS & ~(AF | OF));
  // 16-bit SHLD/SHRD beyond 16: result and flags undefined.
  expect(defined('shld', 2, 0, 17)).toEqual({ flags: 0, result: false });
  expect(defined('shrd', 2, 0, 16)).toEqual({ flags: STATUS_FLAGS & ~(AF | OF), result: true });
});
