// The opcode-table length decoder (objtool/decode/insnLength.ts) against iced-x86, which
// decides every instruction the tables do not cover: wherever the tables give a length, it
// must be iced-x86's and iced-x86 must accept the encoding. Every opcode of the one- and
// two-byte maps, every ModRM byte, SIB base 5 (disp32, no base) and the prefix forms the tables
// accept (operand size, address size, repeat, segment, LOCK, REX) are covered; the bytes that
// follow are seeded random. A 30-million-case version of the same loop found no difference.

import * as fs from 'fs';
import * as path from 'path';
import { Code, Decoder, DecoderOptions, Instruction } from 'iced-x86';
import { insnLength } from '../../objtool/decode/insnLength';
import { decodeCounters, decodeSection } from '../../objtool/decode/x86Decode';
import { ElfFile } from '../../elf/elfFile';
import * as C from '../../elf/constants';
import { FIXTURES } from '../helpers/fixtures';
import { seededRandom } from '../helpers/random';

const PREFIXES = [[], [0x66], [0xf2], [0xf3], [0x67], [0x2e], [0x64], [0x65], [0x66, 0x2e], [0xf3, 0x66], [0xf0], [0xf0, 0x66], [0x3e, 0x67]];
const REX = [-1, 0x40, 0x41, 0x44, 0x48, 0x4c, 0x4f];

function differences(prefixes: number[][], rexes: number[], modrms: (rnd: () => number) => number[], seed: number): { accepted: number; bad: string[] } {
  const rnd = seededRandom(seed);
  const ins = new Instruction();
  const buf = new Uint8Array(32);
  const bad: string[] = [];
  let accepted = 0;
  for (const pre of prefixes) for (const rex of rexes) for (let map = 1; map <= 2; map++) for (let op = 0; op < 256; op++) {
    for (const modrm of modrms(rnd)) {
      let k = 0;
      for (const b of pre) buf[k++] = b;
      if (rex >= 0) buf[k++] = rex;
      if (map === 2) buf[k++] = 0x0f;
      buf[k++] = op;
      buf[k++] = modrm;
      for (let i = k; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
      if (rnd() < 0.3) buf[k] = (buf[k] & 0xf8) | 5;
      const len = insnLength(buf, 0);
      if (!len) continue;
      accepted++;
      const d = new Decoder(64, buf, DecoderOptions.None);
      d.decodeOut(ins);
      if (ins.code === Code.INVALID || ins.length !== len) {
        bad.push(`${Buffer.from(buf.subarray(0, 16)).toString('hex')}: tables ${len}, iced-x86 ${ins.code === Code.INVALID ? 'invalid' : ins.length}`);
      }
      d.free();
    }
  }
  ins.free();
  return { accepted, bad: bad.slice(0, 20) };
}

test('every ModRM byte of every opcode without prefixes: the tables agree with iced-x86', () => {
  const all = Array.from({ length: 256 }, (_, i) => i);
  const r = differences([[]], [-1], () => all, 1);
  expect(r.bad).toEqual([]);
  expect(r.accepted).toBeGreaterThan(50000);
});

test('every prefix form the tables accept, 6 random ModRM bytes per opcode: the tables agree with iced-x86', () => {
  const r = differences(PREFIXES, REX, (rnd) => Array.from({ length: 6 }, () => Math.floor(rnd() * 256)), 2);
  expect(r.bad).toEqual([]);
  expect(r.accepted).toBeGreaterThan(50000);
});

test('instructions cut off by the end of the data are left to iced-x86', () => {
  for (const hex of ['48', '48 8b', '48 8b 04', '48 8b 44 24', 'e8 00 00 00', '0f', '0f 85 00', '66', '48 b8 00 00 00 00 00 00 00']) {
    expect(insnLength(Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex')), 0)).toBe(0);
  }
  expect(insnLength(Uint8Array.from([0x48, 0x8b, 0x44, 0x24, 0x08]), 0)).toBe(5);
});

test('compiler output needs no iced-x86: the big-* objects and the fixture kernel decode from the tables alone', () => {
  // pvh.o is excepted: its 32-bit boot code has an ljmp, invalid in 64-bit mode.
  const dirs = [[path.join(FIXTURES, 'objtool', 'obj'), /^big-/], [path.join(FIXTURES, 'kernel', 'objects'), /^(?!pvh\.o$).*\.o$/]] as const;
  let insns = 0;
  const before = decodeCounters.iced;
  for (const [dir, re] of dirs) {
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.o') && re.test(n))) {
      const elf = ElfFile.read(path.join(dir, f));
      for (const s of elf.sections) {
        if (!(s.flags & C.SHF_EXECINSTR) || s.type === C.SHT_NOBITS) continue;
        expect(decodeSection(s.data, { symbolTypeAt: () => -1 }, () => insns++)).toBe(-1);
      }
    }
  }
  expect(insns).toBeGreaterThan(250000);
  expect(decodeCounters.iced - before).toBe(0);
});
