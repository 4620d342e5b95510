// Unit tests of the lazy flag machinery itself (record, partial updates, cond). The exhaustive
// comparison against the host CPU lives in hostCpu.test.ts.
import { FlagState, CF, PF, AF, ZF, SF, OF, DF, IF, STATUS_FLAGS, CC_B, CC_E, CC_L, CC_G, CC_BE, CC_A, CC_LE, CC_GE, CC_O, CC_S, CC_P } from '../../../emulator/cpu/flags';
import { add, sub, cmp, inc, dec, adc, sbb, neg } from '../../../emulator/exec/arith';
import { and, xor } from '../../../emulator/exec/logic';
import { res } from '../../../emulator/exec/aluResult';

describe('FlagState', () => {
  test('bit 1 is always set and reserved bits are dropped', () => {
    const f = new FlagState();
    expect(f.get()).toBe(2);
    f.set(0xffffffff);
    expect(f.get() & 0x8028).toBe(0);
    expect(f.get() & 2).toBe(2);
    expect(f.get() & (DF | IF | STATUS_FLAGS)).toBe(DF | IF | STATUS_FLAGS);
  });

  test('add 32-bit 0xffffffff + 1 carries and zeroes', () => {
    const f = new FlagState();
    add(f, 4, 0xffffffff, 0, 1, 0);
    expect(res.lo).toBe(0);
    expect(f.get() & STATUS_FLAGS).toBe(CF | ZF | PF | AF);
  });

  test('add 64-bit carries across halves', () => {
    const f = new FlagState();
    add(f, 8, 0xffffffff, 0x7fffffff, 1, 0);
    expect([res.lo, res.hi]).toEqual([0, 0x80000000]);
    expect(f.get() & STATUS_FLAGS).toBe(OF | SF | ZF * 0 | PF | AF);
  });

  test('inc keeps CF, dec keeps CF even when the old CF was lazy', () => {
    const f = new FlagState();
    sub(f, 1, 0, 0, 1, 0); // borrow: CF=1 lazily
    inc(f, 1, 0x7f, 0);
    expect(res.lo).toBe(0x80);
    expect(f.get() & (CF | OF | SF | ZF)).toBe(CF | OF | SF);
    add(f, 2, 1, 0, 1, 0); // CF=0
    dec(f, 2, 0, 0);
    expect(res.lo).toBe(0xffff);
    expect(f.get() & (CF | ZF | SF)).toBe(SF);
  });

  test('adc/sbb use the carry-in', () => {
    const f = new FlagState();
    f.set(CF);
    adc(f, 1, 0xff, 0, 0, 0);
    expect(res.lo).toBe(0);
    expect(f.get() & (CF | ZF)).toBe(CF | ZF);
    sbb(f, 1, 0, 0, 0xff, 0); // 0 - 255 - 1 = 0 with borrow
    expect(res.lo).toBe(0);
    expect(f.get() & (CF | ZF)).toBe(CF | ZF);
  });

  test('neg sets CF iff the operand is non-zero', () => {
    const f = new FlagState();
    neg(f, 8, 0, 0);
    expect(f.carry()).toBe(0);
    neg(f, 8, 0, 0x80000000);
    expect([res.lo, res.hi]).toEqual([0, 0x80000000]);
    expect(f.get() & (CF | OF | SF)).toBe(CF | OF | SF);
  });

  test('logic ops clear CF/OF and set ZF/SF/PF lazily', () => {
    const f = new FlagState(CF | OF);
    and(f, 4, 0xf0f0f0f0, 0, 0x80000000, 0);
    expect(f.get() & STATUS_FLAGS).toBe(SF | PF);
    xor(f, 8, 5, 7, 5, 7);
    expect(f.get() & STATUS_FLAGS).toBe(ZF | PF);
  });

  test('cond follows the flag formulas for signed/unsigned compares', () => {
    const f = new FlagState();
    const cases: [number, number][] = [[1, 2], [2, 1], [5, 5], [0x80000000, 1], [1, 0x80000000], [0xffffffff, 0]];
    for (const [a, b] of cases) {
      cmp(f, 4, a, 0, b, 0);
      const sa = a | 0, sb = b | 0;
      expect(f.cond(CC_B)).toBe(a < b);
      expect(f.cond(CC_B + 1)).toBe(!(a < b));
      expect(f.cond(CC_E)).toBe(a === b);
      expect(f.cond(CC_BE)).toBe(a <= b);
      expect(f.cond(CC_A)).toBe(a > b);
      expect(f.cond(CC_L)).toBe(sa < sb);
      expect(f.cond(CC_GE)).toBe(sa >= sb);
      expect(f.cond(CC_LE)).toBe(sa <= sb);
      expect(f.cond(CC_G)).toBe(sa > sb);
      const r = (a - b) | 0;
      expect(f.cond(CC_S)).toBe(r < 0);
      expect(f.cond(CC_O)).toBe(sa - sb !== r);
    }
    f.set(PF);
    expect(f.cond(CC_P)).toBe(true);
    expect(f.cond(CC_P + 1)).toBe(false);
  });

  test('setStatus keeps pending bits outside the mask', () => {
    const f = new FlagState();
    sub(f, 4, 0, 0, 1, 0); // CF SF PF AF set
    f.setStatus(CF, 0);
    expect(f.get() & STATUS_FLAGS).toBe(SF | PF | AF);
  });
});
