// Compiler-generated SSE code against the host CPU: fixtures/hostcpu/sseProgram.c (gcc -O3
// -msse3: auto-vectorized float/double/integer loops in every rounding mode and with FTZ/DAZ, SSE2
// and SSE3 intrinsics, conversions, comparisons, MXCSR reads) is committed as a flat binary; the
// host's output of the same object is the golden (`make -C fixtures/hostcpu -f sse.mk program`).
// The emulator runs the binary from a direct 64-bit start and must produce the same words.
import * as fs from 'fs';
import * as path from 'path';
import { Machine, STOP_HALTED } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';

const ROOT = path.join(__dirname, '..', '..', '..');
const CODE = 0x100000, OUT = 0x300000, RETURN_TO = 0x1ff000, STACK = 0x80000;

test('sseProgram.bin produces the host CPU\'s words', () => {
  const bin = fs.readFileSync(path.join(ROOT, 'fixtures', 'hostcpu', 'sseProgram.bin'));
  const want = fs.readFileSync(path.join(ROOT, 'test', 'golden', 'hostcpu', 'sseProgram.txt'), 'utf8').trim().split('\n');
  const m = new Machine({ memory: 8 << 20 });
  startDirect64(m, { code: bin, entry: CODE, stack: STACK - 8 });
  m.physWrite(RETURN_TO, Uint8Array.of(0xf4));
  m.mem.dv.setBigUint64(STACK - 8, BigInt(RETURN_TO), true); // sse_program returns to a HLT
  m.regWrite('rdi', BigInt(OUT));
  const r = m.run(50_000_000);
  expect(r.reason).toBe(STOP_HALTED);
  expect(Number(m.regRead('rip'))).toBe(RETURN_TO + 1);
  expect(m.cpu.unimplemented.size).toBe(0);
  const n = Number(m.regRead('rax') & 0xffffffffn);
  const got = Array.from({ length: n }, (_, i) => m.mem.dv.getBigUint64(OUT + 8 * i, true).toString(16).padStart(16, '0'));
  expect(want.length).toBeGreaterThan(600);
  expect(got).toEqual(want);
});
