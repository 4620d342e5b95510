// %pB / %pS as kernel/kallsyms.c prints them.

import { TextSymbols } from '../../../livepatch/unwind/textSymbols';
import { KTEXT } from './syntheticGuest';

describe('kallsyms symbolization', () => {
  const ks = new TextSymbols();
  ks.addRange(KTEXT, KTEXT + 0x300, [
    { name: 'b_func', addr: KTEXT + 0x100 },
    { name: 'a_func', addr: KTEXT },
    { name: 'a_alias', addr: KTEXT },
    { name: 'last', addr: KTEXT + 0x200 },
  ]);
  ks.addRange(-0x3f000000, -0x3f000000 + 0x100, [{ name: 'mod_fn', addr: -0x3f000000 + 0x10 }], 'livepatch_sample');

  test('size is the distance to the next symbol; aliases resolve to the first listed', () => {
    expect(ks.symbol(KTEXT + 0x10)).toBe('a_func+0x10/0x100');
    expect(ks.symbol(KTEXT + 0x100)).toBe('b_func+0x0/0x100');
  });

  test('%pB looks up addr-1: a return address just past a function names that function', () => {
    expect(ks.backtrace(KTEXT + 0x100)).toBe('a_func+0x100/0x100');
    expect(ks.symbol(KTEXT + 0x100)).toBe('b_func+0x0/0x100');
  });

  test('the last symbol extends to the end of its range; modules print their name', () => {
    expect(ks.symbol(KTEXT + 0x2ff)).toBe('last+0xff/0x100');
    expect(ks.backtrace(-0x3f000000 + 0x20)).toBe('mod_fn+0x10/0xf0 [livepatch_sample]');
  });

  test('addresses outside every range print as raw hex (64-bit, unsigned)', () => {
    expect(ks.backtrace(KTEXT + 0x300)).toBe('last+0x100/0x100');
    expect(ks.backtrace(KTEXT + 0x301)).toBe('0xffffffff81000301');
    expect(ks.symbol(0x401000)).toBe('0x401000');
    expect(ks.functionOf(KTEXT + 0x105)).toBe('b_func');
  });
});
