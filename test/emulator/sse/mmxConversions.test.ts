// The mixed SSE/MMX conversions (CVTPI2PS, CVTTPS2PI, ...) with an MMX register operand, through the
// whole machine: the SSE handlers reach the MMX registers through the MMX handlers' access
// (exec/mmxInsns.ts MMX_ACCESS), so an MMX value written by MOVQ converts and comes back.
import { Machine } from '../../../emulator/machine';
import { startDirect64 } from '../../../emulator/loader/direct64';

test('MOVQ mm0 <- [rdi]; CVTPI2PS xmm1, mm0; CVTTPS2PI mm2, xmm1; MOVQ [rdi+8] <- mm2', () => {
  const code = Uint8Array.from([
    0x0f, 0x6f, 0x07, // movq mm0, [rdi]
    0x0f, 0x2a, 0xc8, // cvtpi2ps xmm1, mm0
    0x0f, 0x2c, 0xd1, // cvttps2pi mm2, xmm1
    0x0f, 0x7f, 0x57, 0x08, // movq [rdi+8], mm2
    0xf4,
  ]);
  const m = new Machine();
  startDirect64(m, { code, entry: 0x100000 });
  const data = Buffer.alloc(16);
  data.writeInt32LE(-7, 0); data.writeInt32LE(123456, 4);
  m.physWrite(0x200000, data);
  m.regWrite('rdi', 0x200000n);
  m.run(10);
  expect(m.cpu.unimplemented.size).toBe(0);
  const xmm = m.cpu.regs.xmm;
  const f = new Float32Array(Uint32Array.from([xmm[4], xmm[5]]).buffer);
  expect([f[0], f[1]]).toEqual([-7, 123456]);
  const back = Buffer.from(m.physRead(0x200008, 8)!);
  expect([back.readInt32LE(0), back.readInt32LE(4)]).toEqual([-7, 123456]);
  expect(m.cpu.x87.top).toBe(0); // the MMX transition happened
});
