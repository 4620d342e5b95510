// The ORC tables as the kernel reads them: a linked image produced with Linux 6.1's objtool
// (golden/make-orc-golden.sh) must read back exactly as `objtool --dump=orc` prints it; the
// lookup-block search must agree with a full binary search; sorting follows sorttable's rules.

import * as fs from 'fs';
import * as path from 'path';
import { ElfFile } from '../../../elf/elfFile';
import { KernelImage } from '../../../livepatch/unwind/kernelImage';
import { ORC_REG_BP, ORC_REG_PREV_SP, ORC_REG_SP, ORC_REG_UNDEFINED, packOrc, unpackOrc } from '../../../objtool/orc/orcTypes';
import { OrcTable, type OrcRow } from '../../../livepatch/unwind/orcTable';
import { KTEXT } from './syntheticGuest';

const GOLDEN = path.join(__dirname, 'golden');

describe('ORC tables of a linked image (peer: Linux 6.1 objtool --dump=orc)', () => {
  const file = ElfFile.read(path.join(GOLDEN, 'orc-linked.elf'));
  const golden = fs.readFileSync(path.join(GOLDEN, 'orc-linked.dump'), 'utf8').trimEnd().split('\n');

  test('every entry reads back as objtool dumps it, in table order', () => {
    const t = OrcTable.fromElf(file)!;
    expect(t.init).toBe(true);
    expect(t.count).toBe(golden.length);
    expect(t.dump()).toEqual(golden);
  });

  test('lookup blocks over [_stext, _etext) give the same entry as a full binary search, at every byte', () => {
    const img = KernelImage.fromElf(file);
    const t = img.orc!;
    const stext = img.symbol('_stext')!;
    const etext = img.symbol('_etext')!;
    expect(etext - stext).toBeGreaterThan(256); // several lookup blocks
    let checked = 0;
    for (let ip = stext; ip < etext; ip++) {
      expect(t.find(ip)).toBe(t.orcFindRange(0, t.count, ip));
      checked++;
    }
    expect(checked).toBe(etext - stext);
    // outside the text there is no entry; ip 0 is the built-in NULL-call entry
    expect(t.find(etext + 0x10000)).toBe(-1);
    expect(t.find(0)).toBe(t.nullEntry);
  });

  test('kallsyms of the image: function+offset/size as %pB prints it', () => {
    const img = KernelImage.fromElf(file);
    const syms = file.symbols().filter((s) => s.type === 2 && s.size > 0);
    expect(syms.length).toBeGreaterThan(3);
    for (const s of syms) {
      const a = Number(BigInt.asIntN(64, s.value));
      const aliases = file.symbols().filter((o) => o.value === s.value && (o.type === 2 || o.type === 0) && o.name !== '').map((o) => o.name);
      const m = /^(.*)\+0x1\/0x([0-9a-f]+)$/.exec(img.kallsyms.backtrace(a + 1));
      expect(m).not.toBeNull();
      expect(aliases).toContain(m![1]);
      // the size reaches the next symbol, so it is at least the ELF size
      expect(parseInt(m![2], 16)).toBeGreaterThanOrEqual(s.size);
    }
  });
});

function row(ip: number, spReg: number, spOffset: number, bpReg = ORC_REG_UNDEFINED, bpOffset = 0, end = 0): OrcRow {
  return { ip, spReg, spOffset, bpReg, bpOffset, type: 0, end };
}

describe('sorting and lookup rules', () => {
  test('a section terminator sorts before a real entry at the same address, whatever the input order', () => {
    const real = row(KTEXT + 0x40, ORC_REG_SP, 8);
    const term = row(KTEXT + 0x40, ORC_REG_UNDEFINED, 0);
    for (const rows of [[row(KTEXT, ORC_REG_SP, 8), real, term], [term, row(KTEXT, ORC_REG_SP, 8), real]]) {
      const t = new OrcTable(rows);
      const i = t.find(KTEXT + 0x41);
      expect(t.spReg[i]).toBe(ORC_REG_SP);
    }
  });

  test('__orc_find returns the first entry for an ip below every entry (the kernel does the same)', () => {
    const t = new OrcTable([row(KTEXT + 0x10, ORC_REG_SP, 8), row(KTEXT + 0x20, ORC_REG_BP, 16, ORC_REG_PREV_SP, -16)]);
    expect(t.orcFindRange(0, t.count, KTEXT)).toBe(0);
  });

  test('random tables: lookup-block search equals binary search, shuffled input equals sorted input', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 20; round++) {
      const size = 256 * (1 + rnd(20)) + rnd(256);
      const ips = new Set<number>();
      const n = 1 + rnd(200);
      for (let i = 0; i < n; i++) ips.add(KTEXT + rnd(size));
      const rows = [...ips].map((ip) => row(ip, ORC_REG_SP, 8 * (1 + rnd(4))));
      const shuffled = rows.slice().sort(() => rnd(3) - 1);
      const a = new OrcTable(rows);
      const b = new OrcTable(shuffled);
      a.setLookupRange({ start: KTEXT, stop: KTEXT + size });
      for (let ip = KTEXT; ip < KTEXT + size; ip += 1 + rnd(7)) {
        const full = a.orcFindRange(0, a.count, ip);
        expect(a.find(ip)).toBe(full);
        expect(b.spOffset[b.orcFindRange(0, b.count, ip)]).toBe(a.spOffset[full]);
      }
    }
  });

  test('entry encoding round-trips, including negative offsets and the end bit', () => {
    const e = { spOffset: -16, bpOffset: -32768, spReg: 9, bpReg: 4, type: 2, end: 1 };
    const buf = new Uint8Array(6);
    packOrc(e, buf, 0);
    expect(unpackOrc(buf, 0)).toEqual(e);
  });

  test('an empty or mismatched table disables the unwinder (orc_init false)', () => {
    expect(new OrcTable([]).init).toBe(false);
  });
});
