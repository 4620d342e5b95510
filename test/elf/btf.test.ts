// The BTF reader (elf/btf.ts) and its bpftool-style dump (elf/btfFormat.ts) on a BTF blob built
// here with one type of every kind, compared with bpftool's own dump of the same blob where bpftool
// is installed (CI installs it); and corrupt blobs: one ElfError each, never a host exception.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Btf, BtfKind } from '../../elf/btf';
import { formatBtf } from '../../elf/btfFormat';
import { ElfError } from '../../elf/elfError';
import { seededRandom } from '../helpers/random';

/** Builds a BTF blob: types as [name, info, sizeOrType, ...extra u32 words]. */
class BtfBuilder {
  private readonly strings: string[] = [''];
  private readonly stringOffsets = new Map<string, number>([['', 0]]);
  private strLen = 1;
  readonly words: number[] = [];

  str(s: string): number {
    let off = this.stringOffsets.get(s);
    if (off === undefined) {
      off = this.strLen;
      this.stringOffsets.set(s, off);
      this.strings.push(s);
      this.strLen += Buffer.byteLength(s) + 1;
    }
    return off;
  }

  type(name: string, kind: number, kflag: boolean, vlen: number, sizeOrType: number, ...extra: number[]): void {
    this.words.push(this.str(name), ((kflag ? 1 : 0) << 31 | kind << 24 | vlen) >>> 0, sizeOrType, ...extra.map((x) => x >>> 0));
  }

  bytes(): Uint8Array {
    const types = Buffer.alloc(this.words.length * 4);
    this.words.forEach((w, i) => types.writeUInt32LE(w, i * 4));
    const strs = Buffer.concat(this.strings.map((s) => Buffer.from(`${s}\0`)));
    const hdr = Buffer.alloc(24);
    hdr.writeUInt16LE(0xeb9f, 0); hdr.writeUInt8(1, 2); hdr.writeUInt8(0, 3); hdr.writeUInt32LE(24, 4);
    hdr.writeUInt32LE(0, 8); hdr.writeUInt32LE(types.length, 12);
    hdr.writeUInt32LE(types.length, 16); hdr.writeUInt32LE(strs.length, 20);
    return new Uint8Array(Buffer.concat([hdr, types, strs]));
  }
}

/** One type of every kind (ids in comments), as a kernel's BTF has them. */
function sampleBlob(): Uint8Array {
  const b = new BtfBuilder();
  b.type('int', BtfKind.Int, false, 0, 4, (1 << 24) | 32);                      // 1
  b.type('long unsigned int', BtfKind.Int, false, 0, 8, 64);                      // 2
  b.type('', BtfKind.Ptr, false, 0, 4);                                           // 3 -> struct task
  b.type('task', BtfKind.Struct, true, 4, 24,                                     // 4
    b.str('pid'), 1, 0, b.str('flags'), 2, 64, b.str('bits'), 1, (3 << 24) | 128, b.str('next'), 3, 192);
  b.type('u', BtfKind.Union, false, 2, 8, b.str('a'), 1, 0, b.str('b'), 2, 0);   // 5
  b.type('', BtfKind.Array, false, 0, 0, 1, 1, 16);                               // 6
  b.type('state', BtfKind.Enum, true, 2, 4, b.str('S_BAD'), -1, b.str('S_OK'), 7); // 7
  b.type('big', BtfKind.Enum64, false, 1, 8, b.str('B_MAX'), 0xffffffe0, 0xffffffff); // 8
  b.type('fwd_u', BtfKind.Fwd, true, 0, 0);                                       // 9
  b.type('pid_t', BtfKind.Typedef, false, 0, 1);                                  // 10
  b.type('', BtfKind.Volatile, false, 0, 1);                                      // 11
  b.type('', BtfKind.Const, false, 0, 11);                                        // 12
  b.type('', BtfKind.Restrict, false, 0, 3);                                      // 13
  b.type('', BtfKind.FuncProto, false, 2, 1, b.str('t'), 3, b.str(''), 2);       // 14
  b.type('do_work', BtfKind.Func, false, 1, 14);                                  // 15 (global)
  b.type('counter', BtfKind.Var, false, 0, 1, 1);                                 // 16 (global)
  b.type('.data', BtfKind.DataSec, false, 1, 4, 16, 0, 4);                       // 17
  b.type('double', BtfKind.Float, false, 0, 8);                                   // 18
  b.type('percpu', BtfKind.DeclTag, false, 0, 4, -1);                            // 19
  b.type('user', BtfKind.TypeTag, false, 0, 1);                                   // 20
  return b.bytes();
}

test('every kind is read as written', () => {
  const btf = Btf.parse(sampleBlob(), 'sample');
  expect(btf.types.length).toBe(21);
  const task = btf.struct('task')!;
  expect(task.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual([['pid', 0, 0], ['flags', 64, 0], ['bits', 128, 3], ['next', 192, 0]]);
  expect(btf.named('state')[0].enumerators.map((e) => e.value)).toEqual([-1, 7]);
  expect(btf.named('big')[0].enumerators[0].big).toBe(0xffffffffffffffe0n);
  expect(btf.resolve(12)!.name).toBe('int'); // const -> volatile -> int
  expect(btf.sizeOf(6)).toBe(64);
  expect(btf.sizeOf(3)).toBe(8);
  expect(formatBtf(btf, [4, 7, 8, 17])).toBe([
    "[4] STRUCT 'task' size=24 vlen=4",
    "\t'pid' type_id=1 bits_offset=0",
    "\t'flags' type_id=2 bits_offset=64",
    "\t'bits' type_id=1 bits_offset=128 bitfield_size=3",
    "\t'next' type_id=3 bits_offset=192",
    "[7] ENUM 'state' encoding=SIGNED size=4 vlen=2",
    "\t'S_BAD' val=-1",
    "\t'S_OK' val=7",
    "[8] ENUM64 'big' encoding=UNSIGNED size=8 vlen=1",
    "\t'B_MAX' val=18446744073709551584ULL",
    "[17] DATASEC '.data' size=4 vlen=1",
    "\ttype_id=16 offset=0 size=4 (VAR 'counter')",
    '',
  ].join('\n'));
});

const bpftool = ['bpftool', '/usr/sbin/bpftool'].find((p) => spawnSync(p, ['version']).status === 0);
(bpftool !== undefined || process.env.CI ? test : test.skip)('the dump equals bpftool\'s on the same blob', () => {
  expect(bpftool).toBeDefined(); // CI installs bpftool (.ci/run)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'btf-'));
  try {
    const file = path.join(dir, 'sample.btf');
    fs.writeFileSync(file, sampleBlob());
    const r = spawnSync(bpftool!, ['btf', 'dump', 'file', file, 'format', 'raw'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(formatBtf(Btf.parse(sampleBlob(), 'sample'))).toBe(r.stdout);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test.each([
  ['short', (b: Uint8Array) => b.subarray(0, 10), /shorter than the BTF header/],
  ['magic', (b: Uint8Array) => { const c = b.slice(); c[0] = 0; return c; }, /bad magic/],
  ['version', (b: Uint8Array) => { const c = b.slice(); c[2] = 9; return c; }, /unsupported version 9/],
  ['cut types', (b: Uint8Array) => { const c = b.slice(); new DataView(c.buffer).setUint32(12, 0x7ffffff0, true); return c; }, /type section lies outside/],
  ['bad kind', (b: Uint8Array) => { const c = b.slice(); c[24 + 7] = 0x1f; return c; }, /unknown kind 31/],
  ['bad ref', (b: Uint8Array) => { const c = b.slice(); new DataView(c.buffer).setUint32(24 + 12 * 2 + 8 + 8, 999, true); return c; }, /refers to type 999/],
] as const)('corrupt blob (%s): one ElfError', (_n, corrupt, why) => {
  expect(() => Btf.parse(corrupt(sampleBlob()), 'bad.btf')).toThrow(ElfError);
  expect(() => Btf.parse(corrupt(sampleBlob()), 'bad.btf')).toThrow(why);
});

test('2000 seeded corruptions: each parses or is one ElfError', () => {
  const rnd = seededRandom(4242);
  const good = sampleBlob();
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const c = good.slice(0, i % 7 === 0 ? Math.floor(rnd() * good.length) : good.length);
    for (let k = 0; k < 1 + (i % 4); k++) if (c.length > 0) c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 256);
    try { formatBtf(Btf.parse(c, 'fuzz.btf')); } catch (e) {
      expect(e).toBeInstanceOf(ElfError);
      expect((e as Error).message).not.toContain('\n');
      refused++;
    }
  }
  expect(refused).toBeGreaterThan(100);
});
